"""The base every resource's viewset declares itself on."""

from rest_framework import viewsets
from rest_framework.reverse import reverse

from sprocket_factory.pagination import KeysetPagination


class ResourceViewSet(viewsets.ModelViewSet):
    """CRUD with keyset-paged bare-array lists and a `Location` header on create.

    Subclasses declare `queryset`, `serializer_class`, `filterset_class`, `keyset_orderings`
    and `default_ordering`.
    """

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
