"""The base every resource's viewset declares itself on."""

from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api.pagination import KeysetPagination
from core.api.renderers import ORJSONRenderer
from core.cache import cached_response


class ResourceViewSet(viewsets.ModelViewSet):
    """CRUD with keyset-paged bare-array lists and a `Location` header on create.

    Subclasses declare `queryset`, `serializer_class`, `filterset_class`, `keyset_orderings`,
    `default_ordering`, and `cache_depends_on`: the resources whose writes change their reads.
    """

    cache_depends_on: tuple[str, ...] = ()

    pagination_class = KeysetPagination
    lookup_value_regex = r"\d+"
    default_ordering = "id"
    keyset_orderings = {"id": ("id",), "-id": ("id",)}

    def get_success_headers(self, data) -> dict:
        if "id" not in data:
            return {}
        location = reverse(
            f"{self.basename}-detail", kwargs={"pk": data["id"]}, request=self.request
        )
        return {"Location": location}

    def list(self, request, *args, **kwargs):
        return cached_response(request, self.cache_depends_on, self.list_uncached)

    def list_uncached(self):
        return super().list(self.request)

    def retrieve(self, request, *args, **kwargs):
        return cached_response(
            request,
            self.cache_depends_on,
            lambda: super(ResourceViewSet, self).retrieve(request, *args, **kwargs),
        )

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever format was asked for (a CSV export's 400, for one).
        renderer = getattr(request, "accepted_renderer", None)
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and renderer is not None
            and renderer.format not in ("json", "api")
        ):
            request.accepted_renderer = ORJSONRenderer()
            request.accepted_media_type = ORJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
