"""The dashboard: actual against goal per factory, drawn from the summary endpoint."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from inventory.models import Factory
from production.selectors import BUCKETS

DASHBOARD_FACTORIES = 500
DEFAULT_SELECTED = 6
DEFAULT_BUCKET = "auto"
FACTORY_FIELDS = ("id", "name", "timezone", "is_active")


def _requested_ids(values: list[str]) -> tuple[list[int], list[str]]:
    """The factory ids asked for in the query, and the values that cannot be an id."""
    ids, invalid = [], []
    for value in filter(None, values):
        if value.isascii() and value.isdecimal() and len(value) <= 18:
            ids.append(int(value))
        else:
            invalid.append(value)
    return ids, invalid


def dashboard(request):
    """Like the API: open to anonymous readers when ANONYMOUS_READ is on, else log in.

    The list offers the active factories; a factory asked for by id is offered and selected
    even when archived, and an id that names no factory is reported, not ignored.
    """
    if not settings.ANONYMOUS_READ:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm("production.view_productionrecord"):
            raise PermissionDenied
    requested, invalid = _requested_ids(request.GET.getlist("factory_id"))
    active = list(
        Factory.objects.filter(is_active=True)
        .order_by("id")
        .values(*FACTORY_FIELDS)[:DASHBOARD_FACTORIES]
    )
    listed = {factory["id"] for factory in active}
    asked = list(
        Factory.objects.filter(pk__in=set(requested) - listed)
        .order_by("id")
        .values(*FACTORY_FIELDS)
    )
    factories = sorted(active + asked, key=lambda factory: factory["id"])
    known = listed | {factory["id"] for factory in asked}
    unknown = [str(pk) for pk in dict.fromkeys(requested) if pk not in known] + invalid
    selected = [pk for pk in requested if pk in known] if requested else None
    if selected is None:
        selected = [factory["id"] for factory in active[:DEFAULT_SELECTED]]
    return render(
        request,
        "production/dashboard.html",
        {
            "factories": factories,
            "selected": selected,
            "unknown_factory_ids": unknown,
            "buckets": BUCKETS,
            "default_bucket": DEFAULT_BUCKET,
        },
    )
