"""Production in the original challenge's chart-data document shape."""

from datetime import datetime

from django.conf import settings

from core.errors import InvalidInput, NotFound
from inventory.models import Factory
from production.models import ProductionRecord


def production_chart_document(
    *, factory_id: int | None = None, after: datetime | None = None, before: datetime | None = None
) -> list[dict]:
    """Each factory's production in the original challenge's chart-data shape.

    At most CHART_MAX_POINTS points: a wider request is refused rather than truncated.
    """
    factories = Factory.objects.order_by("id")
    records = ProductionRecord.objects.order_by("factory_id", "time")
    if factory_id is not None:
        factories = factories.filter(pk=factory_id)
        records = records.filter(factory_id=factory_id)
    if after is not None:
        records = records.filter(time__gte=after)
    if before is not None:
        records = records.filter(time__lt=before)

    limit = settings.CHART_MAX_POINTS
    factory_rows = list(factories.values_list("id", "name")[: limit + 1])
    if len(factory_rows) > limit:
        raise InvalidInput(
            f"More than CHART_MAX_POINTS ({limit}) factories; ask for one factory's chart data."
        )
    rows = list(
        records.values_list(
            "factory_id", "sprocket_production_actual", "sprocket_production_goal", "time"
        )[: limit + 1]
    )
    if len(rows) > limit:
        raise InvalidInput(
            f"More than CHART_MAX_POINTS ({limit}) points match; ask for a narrower window "
            "with after= and before=."
        )

    charts = {
        pk: {
            "id": pk,
            "name": name,
            "chart_data": {
                "sprocket_production_actual": [],
                "sprocket_production_goal": [],
                "time": [],
            },
        }
        for pk, name in factory_rows
    }
    for pk, actual, goal, time in rows:
        chart_data = charts[pk]["chart_data"]
        chart_data["sprocket_production_actual"].append(actual)
        chart_data["sprocket_production_goal"].append(goal)
        chart_data["time"].append(int(time.timestamp()))
    return [{"factory": chart} for chart in charts.values()]


def production_factory_chart_document(
    *, factory_id: int, after: datetime | None = None, before: datetime | None = None
) -> dict:
    """One factory's chart-data document; NotFound when there is no such factory."""
    # The factory is looked up with its points: none found means no such factory.
    documents = production_chart_document(factory_id=factory_id, after=after, before=before)
    if not documents:
        raise NotFound()
    return documents[0]
