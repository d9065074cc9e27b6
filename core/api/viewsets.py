"""The base every resource's viewset declares itself on."""

import orjson
from django.utils.text import capfirst
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api.caching import CachedReadsMixin
from core.api.pagination import KeysetPagination
from core.api.renderers import ORJSONRenderer

# Formats an error may be rendered in; any other (a CSV export's) answers its errors as JSON.
ERROR_FORMATS = frozenset({"json", "api"})


class JSONErrorsMixin:
    """Errors are JSON whatever format was asked for (a CSV export's 400, for one)."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and renderer is not None
            and renderer.format not in ERROR_FORMATS
        ):
            request.accepted_renderer = ORJSONRenderer()
            request.accepted_media_type = ORJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class ResourceViewSet(CachedReadsMixin, JSONErrorsMixin, viewsets.ModelViewSet):
    """CRUD with keyset-paged bare-array lists and a `Location` header on create.

    Subclasses declare `queryset`, `serializer_class`, `filterset_class`, `keyset_orderings`,
    `default_ordering`, and `cache_depends_on`: the resources whose writes change their reads.
    A view whose serializer gives its model's fields as they are names them in `json_fields`:
    on PostgreSQL the database writes its JSON list pages.
    """

    pagination_class = KeysetPagination
    # ASCII digits: `\d` matches every script's digits, which int() reads as ids.
    lookup_value_regex = "[0-9]+"
    default_ordering = "id"
    keyset_orderings = {"id": ("id",), "-id": ("id",)}
    json_fields: tuple[str, ...] = ()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if not isinstance(page, orjson.Fragment):  # not already JSON from the database
            page = self.get_serializer(page, many=True).data
        return self.get_paginated_response(page)

    def get_view_name(self) -> str:
        # Plural for a list, singular for one object ("Factories" / "Factory"): the browsable
        # API's title and breadcrumbs. Routes name the suffix ("List" or "Instance").
        if self.name:
            return self.name
        meta = self.queryset.model._meta
        return capfirst(
            meta.verbose_name if self.suffix == "Instance" else meta.verbose_name_plural
        )

    def get_success_headers(self, data) -> dict:
        if "id" not in data:
            return {}
        location = reverse(
            f"{self.basename}-detail", kwargs={"pk": data["id"]}, request=self.request
        )
        return {"Location": location}
