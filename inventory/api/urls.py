from django.urls import re_path

from core.api.routers import OptionalSlashRouter
from inventory.api.bulk import FactoryBulkView, SprocketBulkView
from inventory.api.views import FactoryViewSet, SprocketViewSet

router = OptionalSlashRouter()
router.register("sprockets", SprocketViewSet, basename="sprocket")
router.register("factories", FactoryViewSet, basename="factory")

urlpatterns = [
    re_path(r"^sprockets/bulk/?$", SprocketBulkView.as_view(), name="sprocket-bulk"),
    re_path(r"^factories/bulk/?$", FactoryBulkView.as_view(), name="factory-bulk"),
    *router.urls,
]
