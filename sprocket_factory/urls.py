from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from core.api.throttling import login_throttled
from core.ops.health import ReadinessView, healthz, metrics
from production.views import dashboard

urlpatterns = [
    path("", RedirectView.as_view(url="/sprocketFactory/v1/docs", permanent=False)),
    # Browsers ask for /favicon.ico whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("production/favicon.svg"), permanent=True)),
    path("healthz", healthz, name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", metrics, name="metrics"),
    # The login forms are throttled like the token endpoint (LOGIN_THROTTLE_RATE).
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("dashboard/", dashboard, name="dashboard"),
    path(
        "api-auth/login/",
        login_throttled(LoginView.as_view(template_name="rest_framework/login.html")),
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("sprocketFactory/v1/", include("sprocket_factory.api_urls")),
]

handler400 = "core.api.exceptions.json_bad_request"
handler403 = "core.api.exceptions.json_permission_denied"
handler404 = "core.api.exceptions.json_not_found"
handler500 = "core.api.exceptions.json_server_error"
