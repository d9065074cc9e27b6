from django.conf import settings
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

    def save(self, *args, **kwargs) -> None:
        # Records are kept to the whole second (the API truncates; this covers the admin).
        if self.time is not None:
            self.time = self.time.replace(microsecond=0)
        super().save(*args, **kwargs)


class IngestBatch(models.Model):
    """One bulk request: who sent what, how it went, and its answer for idempotent retries."""

    class Resource(models.TextChoices):
        PRODUCTION = "production"
        SPROCKETS = "sprockets"
        FACTORIES = "factories"

    class Shape(models.TextChoices):
        ARRAY = "array", "JSON array"
        ITEMS = "items", '{"items": [...]}'
        DOCUMENT = "document", "original challenge document"

    class OnConflict(models.TextChoices):
        ERROR = "error"
        SKIP = "skip"
        UPDATE = "update"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resource = models.CharField(max_length=16, choices=Resource.choices)
    shape = models.CharField(max_length=16, choices=Shape.choices, blank=True)
    on_conflict = models.CharField(max_length=8, choices=OnConflict.choices)
    # NULL, not "", for "no key": the unique constraint below only covers given keys.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    response = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ingest batches"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "resource", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="production_ingestbatch_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} batch {self.pk} ({self.status_code})"


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
