"""Each factory's production over one recent window, as alert rules read it: sums of actual
and goal from the rollups (whole days and hours) and the raw edges only, and which factories
wrote any record since a moment (one index probe each)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from inventory.models import Factory
from production.models import ProductionRecord
from production.selectors.buckets import BucketRange
from production.selectors.summary import summary_sums


@dataclass(frozen=True)
class WindowTotals:
    actual: int
    goal: int


def production_window_totals(
    *, factory_ids: list[int], after: datetime, before: datetime
) -> dict[int, WindowTotals]:
    """Actual and goal summed over [after, before) per factory that has records there."""
    if not factory_ids:
        return {}
    sums = summary_sums(factory_ids, [BucketRange(label="", start=after, end=before)])
    return {
        factory_id: WindowTotals(actual=actual, goal=goal)
        for (factory_id, _), (actual, goal) in sums.items()
    }


def production_factories_writing_since(*, factory_ids: list[int], since: datetime) -> set[int]:
    """Which of the factories have a record at or after `since`: one index probe each."""
    wrote = Exists(ProductionRecord.objects.filter(factory_id=OuterRef("pk"), time__gte=since))
    return set(
        Factory.objects.filter(pk__in=factory_ids).filter(wrote).values_list("pk", flat=True)
    )
