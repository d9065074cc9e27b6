from django.contrib import admin

from core.admin import BoundedCountPaginator, StrictInputAdmin
from ingest.models import IngestBatch


@admin.register(IngestBatch)
class IngestBatchAdmin(StrictInputAdmin):
    """The audit of bulk requests: read-only."""

    list_display = (
        "id",
        "created_at",
        "user",
        "resource",
        "shape",
        "on_conflict",
        "status_code",
        "rows",
        "created",
        "updated",
        "skipped",
    )
    list_filter = ("resource", "status_code", "on_conflict")
    search_fields = ("user__username", "idempotency_key")
    list_select_related = ("user",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
