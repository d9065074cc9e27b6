"""Admin pieces every app's admin uses."""

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class BoundedCountPaginator(Paginator):
    """Counts at most ADMIN_PRODUCTION_COUNT_LIMIT + 1 rows, never the whole table."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: settings.ADMIN_PRODUCTION_COUNT_LIMIT + 1].count()
