"""Production in the original challenge's chart-data document shape.

Each document is written by PostgreSQL as JSON in one query when it can (core.json_sql), and
by Python from the rows otherwise: the same bytes either way.
"""

from datetime import datetime

import orjson
from django.conf import settings
from django.db import connection

from core.errors import InvalidInput, NotFound
from core.json_sql import json_from_database
from inventory.models import Factory
from production.models import ProductionRecord

TOO_MANY_FACTORIES = (
    "More than CHART_MAX_POINTS ({limit}) factories; ask for one factory's chart data."
)
TOO_MANY_POINTS = (
    "More than CHART_MAX_POINTS ({limit}) points match; ask for a narrower window "
    "with after= and before=."
)
# Every factory's document (or the one asked for), its points in time order, counted so that
# more than the limit is refused as Python refuses it. A condition without its value is true
# (values are bound in the text, so the planner drops it).
CHARTS_SQL = f"""
WITH f AS (
    SELECT id, name FROM {Factory._meta.db_table}
    WHERE (%(factory_id)s::bigint IS NULL OR id = %(factory_id)s)
    ORDER BY id LIMIT %(more)s
), r AS (
    SELECT factory_id, sprocket_production_actual AS actual, sprocket_production_goal AS goal,
           time
    FROM {ProductionRecord._meta.db_table}
    WHERE (%(factory_id)s::bigint IS NULL OR factory_id = %(factory_id)s)
      AND (%(after)s::timestamptz IS NULL OR time >= %(after)s)
      AND (%(before)s::timestamptz IS NULL OR time < %(before)s)
    ORDER BY factory_id, time LIMIT %(more)s
), c AS (
    SELECT factory_id, string_agg(actual::text, ',' ORDER BY time) AS actual,
           string_agg(goal::text, ',' ORDER BY time) AS goal,
           string_agg(trunc(extract(epoch FROM time))::bigint::text, ',' ORDER BY time) AS time
    FROM r GROUP BY factory_id
)
SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM r), string_agg(
    '{{"factory":{{"id":' || f.id || ',"name":' || to_json(f.name)::text
    || ',"chart_data":{{"sprocket_production_actual":[' || coalesce(c.actual, '')
    || '],"sprocket_production_goal":[' || coalesce(c.goal, '')
    || '],"time":[' || coalesce(c.time, '') || ']}}}}}}', ',' ORDER BY f.id)
FROM f LEFT JOIN c ON c.factory_id = f.id
"""  # noqa: S608 (table names from the models; values are parameters)


def production_chart_document(
    *, factory_id: int | None = None, after: datetime | None = None, before: datetime | None = None
) -> dict | orjson.Fragment:
    """`{"factories": [...]}`: each factory's production in the original chart-data shape.

    At most CHART_MAX_POINTS points: a wider request is refused rather than truncated.
    """
    if json_from_database():
        _, joined = _charts_json(factory_id=factory_id, after=after, before=before)
        return orjson.Fragment(b'{"factories":[' + joined + b"]}")
    return {"factories": _charts(factory_id=factory_id, after=after, before=before)}


def _charts_json(
    *, factory_id: int | None, after: datetime | None, before: datetime | None
) -> tuple[int, bytes]:
    """(factories found, their documents joined by commas) as PostgreSQL writes them."""
    limit = settings.CHART_MAX_POINTS
    params = {"more": limit + 1, "factory_id": factory_id, "after": after, "before": before}
    with connection.cursor() as cursor:
        cursor.execute(CHARTS_SQL, params)
        factories, points, joined = cursor.fetchone()
    if factories > limit:
        raise InvalidInput(TOO_MANY_FACTORIES.format(limit=limit))
    if points > limit:
        raise InvalidInput(TOO_MANY_POINTS.format(limit=limit))
    return factories, (joined or "").encode()


def _charts(
    *, factory_id: int | None, after: datetime | None, before: datetime | None
) -> list[dict]:
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
        raise InvalidInput(TOO_MANY_FACTORIES.format(limit=limit))
    rows = list(
        records.values_list(
            "factory_id", "sprocket_production_actual", "sprocket_production_goal", "time"
        )[: limit + 1]
    )
    if len(rows) > limit:
        raise InvalidInput(TOO_MANY_POINTS.format(limit=limit))

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
) -> dict | orjson.Fragment:
    """`{"factory": {...}}`: one factory's chart-data document; NotFound when there is no
    such factory."""
    # The factory is looked up with its points: none found means no such factory.
    if json_from_database():
        found, document = _charts_json(factory_id=factory_id, after=after, before=before)
        if not found:
            raise NotFound()
        return orjson.Fragment(document)
    documents = _charts(factory_id=factory_id, after=after, before=before)
    if not documents:
        raise NotFound()
    return documents[0]
