from datetime import UTC

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.functional import cached_property

from core.admin import BoundedCountPaginator, StrictInputAdmin
from production.models import ProductionRecord
from production.services import production_record_delete, production_records_delete


class FilterAutocompleteSelect(AutocompleteSelect):
    """The admin's autocomplete with a placeholder: Django's own always sets an empty one."""

    placeholder = "Filter by factory…"

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {
            **super().build_attrs(base_attrs, extra_attrs),
            "data-placeholder": self.placeholder,
        }


class FactoryAutocompleteFilter(admin.SimpleListFilter):
    """Filter by one factory chosen by autocomplete, rather than a list of every factory."""

    title = "factory"
    parameter_name = "factory"
    template = "admin/production/factory_autocomplete_filter.html"

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        self.field = model._meta.get_field("factory")
        self.admin_site = model_admin.admin_site

    @cached_property
    def rendered_widget(self) -> str:
        # Drawn only for a valid value: a bad one has redirected to ?e=1 before this runs.
        widget = FilterAutocompleteSelect(
            self.field,
            self.admin_site,
            attrs={
                "data-autocomplete-filter": self.parameter_name,
                "id": "factory-filter",
                "style": "width: 100%",
            },
        )
        widget.choices = forms.ModelChoiceField(
            queryset=self.field.related_model.objects.all()
        ).choices
        return widget.render(self.parameter_name, self.value())

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdecimal()):
            raise IncorrectLookupParameters(f"factory={value!r} is not a factory id")
        return queryset.filter(factory_id=int(value))


@admin.register(ProductionRecord)
class ProductionRecordAdmin(StrictInputAdmin):
    # Short labels and a compact time keep every column inside a 1280 px wide window.
    list_display = ("time_utc", "factory", "actual", "goal", "attainment")
    list_display_links = ("time_utc",)
    list_select_related = ("factory",)
    list_filter = (FactoryAutocompleteFilter, ("time", admin.DateFieldListFilter))
    search_fields = ("factory__name",)
    autocomplete_fields = ("factory",)
    # Sorting only by (factory, time), the order of the unique index, keeps every page an
    # index scan; sorting by another column would sort the whole table.
    ordering = ("factory_id", "time")
    sortable_by = ()
    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    @admin.display(description="Time (UTC)")
    def time_utc(self, record: ProductionRecord) -> str:
        return record.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="Actual")
    def actual(self, record: ProductionRecord) -> int:
        return record.sprocket_production_actual

    @admin.display(description="Goal")
    def goal(self, record: ProductionRecord) -> int:
        return record.sprocket_production_goal

    @admin.display(description="Attainment")
    def attainment(self, record: ProductionRecord) -> str | None:
        goal = record.sprocket_production_goal
        return f"{record.sprocket_production_actual / goal:.1%}" if goal else None

    def get_deleted_objects(self, objs, request):
        # A summary, not a line per record: "select all" may select millions of them.
        limit = settings.ADMIN_PRODUCTION_COUNT_LIMIT
        count = len(objs) if isinstance(objs, list) else objs[: limit + 1].count()
        shown = f"more than {limit}" if count > limit else str(count)
        summary = f"{shown} production records"
        return [summary], {"production records": shown}, set(), []

    def delete_model(self, request, obj) -> None:
        production_record_delete(record=obj)

    def delete_queryset(self, request, queryset) -> None:
        production_records_delete(queryset=queryset)

    @property
    def media(self):
        factory_widget = AutocompleteSelect(self.model._meta.get_field("factory"), self.admin_site)
        filter_script = forms.Media(js=["production/admin_factory_filter.js"])
        return super().media + factory_widget.media + filter_script
