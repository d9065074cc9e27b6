from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from production.views import dashboard
from sprocket_factory.health import ReadinessView, healthz, metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/sprocketFactory/v1/docs", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("dashboard/", dashboard, name="dashboard"),
    path("api-auth/", include("rest_framework.urls")),
    path("sprocketFactory/v1/", include("sprocket_factory.api_urls")),
]

handler400 = "sprocket_factory.exceptions.json_bad_request"
handler403 = "sprocket_factory.exceptions.json_permission_denied"
handler404 = "sprocket_factory.exceptions.json_not_found"
handler500 = "sprocket_factory.exceptions.json_server_error"
