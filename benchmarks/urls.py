from django.urls import include, path

from benchmarks.reference import ReferenceProductionList

urlpatterns = [
    path("reference/production/<int:factory_id>", ReferenceProductionList.as_view()),
    path("", include("sprocket_factory.urls")),
]
