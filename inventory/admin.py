from django.contrib import admin, messages

from core.admin import StrictInputAdmin
from inventory.models import Factory, Sprocket


@admin.register(Sprocket)
class SprocketAdmin(StrictInputAdmin):
    list_display = (
        "id",
        "name",
        "teeth",
        "pitch_diameter",
        "outside_diameter",
        "pitch",
        "updated_at",
    )
    list_display_links = ("id", "name")
    list_filter = ("teeth",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 100


@admin.register(Factory)
class FactoryAdmin(StrictInputAdmin):
    list_display = ("id", "name", "timezone", "is_active", "created_at", "updated_at")
    list_display_links = ("id", "name")
    list_filter = ("is_active", "timezone")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("archive", "restore")
    list_per_page = 100

    def get_deleted_objects(self, objs, request):
        # Django would list every protected production record; one line per factory says it.
        with_production = [f for f in objs if f.production_records.exists()]
        if with_production:
            protected = [
                f"{factory.name} has production records and cannot be deleted. Archive it "
                'instead: select it in the list and choose "Archive the selected factories".'
                for factory in with_production
            ]
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)

    @admin.action(description="Archive the selected factories", permissions=["change"])
    def archive(self, request, queryset) -> None:
        self._set_active(request, queryset, is_active=False)

    @admin.action(description="Restore the selected factories", permissions=["change"])
    def restore(self, request, queryset) -> None:
        self._set_active(request, queryset, is_active=True)

    def _set_active(self, request, queryset, *, is_active: bool) -> None:
        # Saved one by one so that every save path (signals, cache generations) sees it.
        changed = 0
        for factory in queryset.exclude(is_active=is_active):
            factory.is_active = is_active
            factory.save(update_fields=["is_active", "updated_at"])
            changed += 1
        verb = "Restored" if is_active else "Archived"
        noun = "factory" if changed == 1 else "factories"
        self.message_user(request, f"{verb} {changed} {noun}.", messages.SUCCESS)
