from django.db import models
from django.db.models import Q

from inventory.models import Factory

# The cached resource that writes to production records change (core.cache).
PRODUCTION = "production"


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

    def save(self, *args, **kwargs) -> None:
        # Records are kept to the whole second (the API truncates; this covers the admin).
        if self.time is not None:
            self.time = self.time.replace(microsecond=0)
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        # Where it was stored: a change that moves the record changes production there too.
        record.stored_at = (record.__dict__.get("factory_id"), record.__dict__.get("time"))
        return record


class ProductionRollup(models.Model):
    """Actual and goal summed per factory per UTC period; kept by PostgreSQL triggers.

    Every write to production records — any path, COPY included — changes the rollups in the
    same transaction. Summaries read whole days and hours from them, and only the edges that
    a bucket or window cuts from the records.
    """

    factory_id = models.BigIntegerField()
    sprocket_production_actual = models.BigIntegerField()
    sprocket_production_goal = models.BigIntegerField()
    records = models.IntegerField()

    class Meta:
        abstract = True


class ProductionHourlyRollup(ProductionRollup):
    """Each factory's production per UTC hour."""

    hour = models.DateTimeField()

    class Meta:
        ordering = ["factory_id", "hour"]
        # Scans of every factory over a window, and the data's first and last hour.
        indexes = [models.Index(fields=["hour"], name="production_rollup_hour")]
        constraints = [
            models.UniqueConstraint(
                fields=["factory_id", "hour"], name="production_rollup_unique_factory_hour"
            ),
            models.CheckConstraint(
                condition=Q(records__gte=0), name="production_rollup_records_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.factory_id} @ {self.hour:%Y-%m-%d %H:00}"


class ProductionDailyRollup(ProductionRollup):
    """Each factory's production per UTC day."""

    day = models.DateTimeField()

    class Meta:
        ordering = ["factory_id", "day"]
        indexes = [models.Index(fields=["day"], name="production_daily_rollup_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["factory_id", "day"], name="production_daily_rollup_unique_factory_day"
            ),
            models.CheckConstraint(
                condition=Q(records__gte=0), name="production_daily_rollup_records_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.factory_id} @ {self.day:%Y-%m-%d}"
