"""Admin pieces every app's admin uses."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class BoundedCountPaginator(Paginator):
    """Counts at most ADMIN_PRODUCTION_COUNT_LIMIT + 1 rows, never the whole table."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: settings.ADMIN_PRODUCTION_COUNT_LIMIT + 1].count()


class StrictInputAdmin(admin.ModelAdmin):
    """An admin whose searches, filters and object ids never send the database what it would
    fail on or misread: PostgreSQL refuses a NUL in any text (a 500), and Django reads an id
    in another script's digits as the number it stands for."""

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete searches come here unchecked; no text a NUL is in can match.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_changelist_instance(self, request):
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            # Answered as every bad filter value is: back to the list, with ?e=1.
            raise IncorrectLookupParameters("A query value holds a NUL character.")
        return super().get_changelist_instance(request)

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and not (object_id.isascii() and object_id.isdigit()):
            return None
        return super().get_object(request, object_id, from_field)
