from django.conf import settings
from django.db import models
from django.db.models import Q


class IngestBatch(models.Model):
    """One bulk request: who sent what, how it went, and its answer for idempotent retries."""

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
    # The bulk endpoint's resource, as the app that owns it names it ("production", ...).
    resource = models.CharField(max_length=16)
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
                name="ingest_ingestbatch_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} batch {self.pk} ({self.status_code})"


OnConflict = IngestBatch.OnConflict
Shape = IngestBatch.Shape
