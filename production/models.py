from django.db import models
from django.db.models import Q

from inventory.models import Factory


class ProductionRecord(models.Model):
    """One minute of one factory's production: what it made and what it should have made."""

    factory = models.ForeignKey(
        Factory, on_delete=models.PROTECT, related_name="production_records", db_index=False
    )
    time = models.DateTimeField()
    sprocket_production_actual = models.IntegerField()
    sprocket_production_goal = models.IntegerField()

    class Meta:
        ordering = ["factory_id", "time"]
        constraints = [
            # Also the index behind every per-factory time window.
            models.UniqueConstraint(
                fields=["factory", "time"], name="production_record_unique_factory_time"
            ),
            models.CheckConstraint(
                condition=Q(sprocket_production_actual__gte=0),
                name="production_record_actual_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(sprocket_production_goal__gte=0), name="production_record_goal_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.factory_id} @ {self.time:%Y-%m-%d %H:%M:%S}"
