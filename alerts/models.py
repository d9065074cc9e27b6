"""Alert rules, the alerts they raise per factory, and the webhook deliveries of each
alert's opening and resolution (written in the same transaction as the alert)."""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.models import Factory

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_COOLDOWN_MINUTES = 30 * 24 * 60
# Attainment kept with the alert: a sum of int64 over a goal of 1 has up to 19 digits.
VALUE_DIGITS = {"max_digits": 24, "decimal_places": 4}


class RuleKind(models.TextChoices):
    ATTAINMENT_BELOW = "attainment_below", "Attainment below a threshold"
    NO_PRODUCTION = "no_production", "No production"


class AlertRule(models.Model):
    """When to raise an alert: attainment (actual / goal) over the last `window_minutes`
    below `threshold`, or no record for `window_minutes`; for one factory or (factory null)
    for every factory. An open alert resolves only at `threshold + hysteresis`, so a value
    hovering at the threshold does not open and resolve it again and again."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    factory = models.ForeignKey(
        Factory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Empty: every factory.",
    )
    window_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_MINUTES)]
    )
    threshold = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text="attainment_below only: e.g. 0.95.",
    )
    hysteresis = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.02"),
        validators=[MinValueValidator(Decimal(0))],
        help_text="attainment_below only: an open alert resolves at threshold + hysteresis.",
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_COOLDOWN_MINUTES)],
        help_text="After an alert resolves, no new one opens for this long (up to 30 days).",
    )
    webhook_url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=200, help_text="Signs each delivery (HMAC-SHA256).")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_minutes__gte=1, window_minutes__lte=MAX_WINDOW_MINUTES),
                name="alert_rule_window_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=Q(kind=RuleKind.ATTAINMENT_BELOW, threshold__gt=0)
                | Q(kind=RuleKind.NO_PRODUCTION, threshold__isnull=True),
                name="alert_rule_threshold_for_attainment_only",
            ),
            models.CheckConstraint(
                condition=Q(hysteresis__gte=0), name="alert_rule_hysteresis_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(cooldown_minutes__lte=MAX_COOLDOWN_MINUTES),
                name="alert_rule_cooldown_minutes_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One episode of a rule broken at one factory: opened, then resolved."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="alerts")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    opened_value = models.DecimalField(
        **VALUE_DIGITS, null=True, blank=True, help_text="Attainment then."
    )
    resolved_value = models.DecimalField(**VALUE_DIGITS, null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["factory", "opened_at"], name="alert_factory_opened"),
            models.Index(fields=["opened_at"], name="alert_opened"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "factory"],
                condition=Q(state=AlertState.OPEN),
                name="alert_one_open_per_rule_and_factory",
            ),
            models.CheckConstraint(
                condition=Q(state=AlertState.OPEN, resolved_at__isnull=True)
                | Q(state=AlertState.RESOLVED, resolved_at__isnull=False),
                name="alert_resolved_at_iff_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} at {self.factory} ({self.state})"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One webhook call for an alert's opening or resolution, with its attempts; written in
    the transaction that changes the alert, so none is lost between commit and queue."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = models.JSONField()
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=DeliveryState.PENDING),
                name="delivery_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} of alert {self.alert_id} ({self.state})"


class WorkerBeat(models.Model):
    """When the worker last ran a periodic task (its health check reads it)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
