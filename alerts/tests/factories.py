from decimal import Decimal

from factory import Sequence
from factory.django import DjangoModelFactory

from alerts.models import AlertRule, RuleKind


class AlertRuleFactory(DjangoModelFactory):
    class Meta:
        model = AlertRule

    name = Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.ATTAINMENT_BELOW
    window_minutes = 60
    threshold = Decimal("0.95")
    webhook_url = "https://hooks.example.com/sprockets"
    secret = "s3cret"


def no_production_rule(**fields) -> dict:
    """An API body of a no_production rule, with `fields` changed."""
    return {
        "name": "r",
        "kind": "no_production",
        "window_minutes": 5,
        "webhook_url": "https://hooks.example.com/x",
        "secret": "x",
        **fields,
    }
