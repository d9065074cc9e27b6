"""Everything under /sprocketFactory/v1/."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from inventory.api.urls import urlpatterns as inventory_urls
from production.api.urls import urlpatterns as production_urls
from sprocket_factory.auth_views import TokenLogoutView, TokenObtainView
from sprocket_factory.exceptions import json_not_found

urlpatterns = [
    re_path(r"^auth/token/?$", TokenObtainView.as_view(), name="auth-token"),
    re_path(r"^auth/logout/?$", TokenLogoutView.as_view(), name="auth-logout"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(
        r"^redoc/?$",
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="redoc",
    ),
    *production_urls,
    *inventory_urls,
    # Unknown paths under the API are a JSON 404 even with DEBUG on.
    re_path(r"", json_not_found),
]
