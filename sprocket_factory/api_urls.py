"""Everything under /sprocketFactory/v1/."""

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from alerts.api.urls import urlpatterns as alerts_urls
from core.api.auth_views import TokenLogoutView, TokenObtainView
from core.api.exceptions import json_not_found
from inventory.api.urls import urlpatterns as inventory_urls
from production.api.urls import urlpatterns as production_urls

DOCS_METHODS = ["get", "head"]

urlpatterns = [
    re_path(r"^auth/token/?$", TokenObtainView.as_view(), name="auth-token"),
    re_path(r"^auth/logout/?$", TokenLogoutView.as_view(), name="auth-logout"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # The viewers are pages: GET only. OPTIONS would render DRF's metadata through the
    # page's template, which Swagger UI's cannot do (a 500).
    re_path(
        r"^docs/?$",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=DOCS_METHODS),
        name="docs",
    ),
    re_path(
        r"^redoc/?$",
        SpectacularRedocView.as_view(
            url_name="schema", template_name="api_docs/redoc.html", http_method_names=DOCS_METHODS
        ),
        name="redoc",
    ),
    *production_urls,
    *inventory_urls,
    *alerts_urls,
    # Unknown paths under the API are a JSON 404 even with DEBUG on, for every method: no
    # CSRF check here, or a POST to a mistyped path would get Django's HTML 403 page.
    re_path(r"", csrf_exempt(json_not_found)),
]
