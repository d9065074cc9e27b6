from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from core.timezones import is_zone_name

# The cached resources that writes to these models change (core.cache).
SPROCKETS = "sprockets"
FACTORIES = "factories"


def validate_timezone(value: str) -> None:
    if not is_zone_name(value):
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. 'Europe/Berlin').")


class Sprocket(models.Model):
    """A sprocket type in the catalogue."""

    name = models.CharField(max_length=200, null=True, blank=True, unique=True)
    teeth = models.IntegerField()
    pitch_diameter = models.DecimalField(max_digits=12, decimal_places=4)
    outside_diameter = models.DecimalField(max_digits=12, decimal_places=4)
    pitch = models.DecimalField(max_digits=12, decimal_places=4)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="inventory_sprocket_name_not_empty"),
            models.CheckConstraint(
                condition=Q(teeth__gte=1), name="inventory_sprocket_teeth_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(pitch_diameter__gt=0), name="inventory_sprocket_pitch_diameter_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(outside_diameter__gt=0), name="inventory_sprocket_outside_diameter_gt_0"
            ),
            models.CheckConstraint(condition=Q(pitch__gt=0), name="inventory_sprocket_pitch_gt_0"),
            models.CheckConstraint(
                condition=Q(outside_diameter__gte=F("pitch_diameter")),
                name="inventory_sprocket_outside_gte_pitch_diameter",
                violation_error_message="The outside diameter cannot be smaller than the pitch diameter.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Sprocket type {self.pk} ({self.teeth} teeth)"


class Factory(models.Model):
    """A factory whose production is tracked against its goal."""

    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    # Local times in `timezone`, the same every day; an end before the start runs past
    # midnight; neither set: always working (inventory/hours.py).
    working_hours_start = models.TimeField(null=True, blank=True)
    working_hours_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "factories"
        constraints = [
            models.CheckConstraint(
                condition=Q(working_hours_start__isnull=True, working_hours_end__isnull=True)
                | (
                    Q(working_hours_start__isnull=False, working_hours_end__isnull=False)
                    & ~Q(working_hours_start=F("working_hours_end"))
                ),
                name="inventory_factory_working_hours_both_or_neither",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="inventory_factory_name_not_empty"),
            models.CheckConstraint(
                condition=~Q(timezone=""), name="inventory_factory_timezone_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.name
