"""The dashboard: actual against goal per factory, drawn from the summary endpoint."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from inventory.models import Factory
from production.selectors import BUCKETS

DASHBOARD_FACTORIES = 500
DEFAULT_SELECTED = 6


def dashboard(request):
    """Like the API: open to anonymous readers when ANONYMOUS_READ is on, else log in."""
    if not settings.ANONYMOUS_READ:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm("production.view_productionrecord"):
            raise PermissionDenied
    factories = list(
        Factory.objects.filter(is_active=True)
        .order_by("id")
        .values("id", "name")[:DASHBOARD_FACTORIES]
    )
    return render(
        request,
        "production/dashboard.html",
        {
            "factories": factories,
            "default_selected": [f["id"] for f in factories[:DEFAULT_SELECTED]],
            "buckets": BUCKETS,
        },
    )
