from django.contrib import admin, messages

from alerts.models import Alert, AlertRule, WebhookDelivery
from alerts.services import webhook_deliveries_retry


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "factory", "window_minutes", "threshold", "is_active")
    list_select_related = ("factory",)
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    autocomplete_fields = ("factory",)


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ("event", "state", "attempts", "last_status_code", "last_error", "delivered_at")
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "rule", "factory", "state", "opened_at", "resolved_at")
    list_select_related = ("rule", "factory")
    list_filter = ("state", "rule")
    date_hierarchy = "opened_at"
    readonly_fields = (
        "rule",
        "factory",
        "state",
        "opened_at",
        "resolved_at",
        "opened_value",
        "resolved_value",
    )
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "alert", "state", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("state", "event")
    list_select_related = ("alert__rule", "alert__factory")
    actions = ["retry"]
    readonly_fields = (
        "alert",
        "event",
        "idempotency_key",
        "body",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Retry the selected failed deliveries", permissions=["change"])
    def retry(self, request, queryset) -> None:
        retried = webhook_deliveries_retry(deliveries=queryset)
        self.message_user(request, f"{retried} failed deliveries queued again.", messages.SUCCESS)
