"""The road to a distributed PostgreSQL (issue 14, docs/scaling.md "After one primary"): with
production distributed by `factory_id` (Citus), a query that pins one factory goes to one
shard, one that groups by factory is pushed down to every shard whole, anything else fans out
and is merged by the coordinator. Every query each production request sends is classified here
from its SQL; a query that neither pins nor groups by factory must be a listed fan-out, so a
new one cannot slip in unnoticed. (Trigger-maintained rollups run inside the writing statement
on its shard, and the CSV export's and bulk ingest's COPY go through psycopg's copy(), and are
not seen here: the export copies the factory page's query, bulk COPY routes each row by its
factory_id.)"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.tests.factories import FactoryFactory
from production.tests.factories import ProductionRecordFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="classifies PostgreSQL's SQL"),
]

API = "/sprocketFactory/v1"
PRODUCTION_TABLES = re.compile(r'"?production_production\w*"?')
# A parameter (%s client-side, $n server-side), a number, a list or an array of them.
PINNED = re.compile(r'factory_id"?\s*(=\s*(%s|\$\d+|\d+)|IN\s*\(|=\s*ANY)', re.IGNORECASE)
INSERTED = re.compile(r'^INSERT INTO "production_\w+" \([^)]*"factory_id"', re.IGNORECASE)
GROUPED = re.compile(r"GROUP BY [^;]*factory_id", re.IGNORECASE)

# Requests whose queries touch production without pinning or grouping by one factory, and why
# that is what they mean (docs/scaling.md lists what would change under Citus).
FAN_OUTS = {
    "GET /production": "every factory's records in time order: a merge of every shard's",
    "GET /production/records/{id}": "by record id alone: the shard is not known from an id",
    "PATCH /production/records/{id}": "by record id alone: the shard is not known from an id",
    "DELETE /production/records/{id}": "by record id alone: the shard is not known from an id",
    "DELETE /production?window": "every factory's window: each shard empties its own partitions",
}


def requests_to_classify(factory_id: int, record_id: int) -> list[tuple[str, str, str, dict]]:
    """(label, method, path, body) of every kind of production request."""
    window = "after=2000-01-01T00:00:00Z&before=2000-01-02T00:00:00Z"
    record = {
        "factory_id": factory_id,
        "time": 946_771_200,
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 2,
    }
    return [
        ("GET /production", "get", "/production", {}),
        ("GET /production/{factory_id}", "get", f"/production/{factory_id}", {}),
        ("POST /production", "post", "/production", record),
        ("GET /production/records/{id}", "get", f"/production/records/{record_id}", {}),
        (
            "PATCH /production/records/{id}",
            "patch",
            f"/production/records/{record_id}",
            {"sprocket_production_actual": 5},
        ),
        ("GET /factories/{id}/chart-data", "get", f"/factories/{factory_id}/chart-data", {}),
        ("GET /factories/chart-data", "get", "/factories/chart-data", {}),
        ("GET /production/summary", "get", "/production/summary", {}),
        (
            "GET /production/summary?factory_id=",
            "get",
            f"/production/summary?factory_id={factory_id}",
            {},
        ),
        (
            "DELETE /production/{factory_id}?window",
            "delete",
            f"/production/{factory_id}?{window}",
            {},
        ),
        ("DELETE /production/records/{id}", "delete", f"/production/records/{record_id}", {}),
        ("DELETE /production?window", "delete", f"/production?{window}", {}),
        (
            "GET /production/summary?forecast",
            "get",
            f"/production/summary?factory_id={factory_id}&bucket=day&forecast=true",
            {},
        ),
    ]


def shape(sql: str) -> str:
    if PINNED.search(sql) or INSERTED.search(sql):
        return "one shard"
    if GROUPED.search(sql):
        return "pushed down"
    return "fan-out"


def test_every_production_query_pins_or_groups_by_factory_or_is_a_listed_fan_out(manager):
    factory = FactoryFactory()
    FactoryFactory()
    record = ProductionRecordFactory(factory=factory)
    ProductionRecordFactory.create_batch(3, factory=factory)
    unlisted, listed_but_routed, seen = [], [], set()

    for label, method, path, body in requests_to_classify(factory.id, record.id):
        with CaptureQueriesContext(connection) as captured:
            response = getattr(manager, method)(API + path, body, format="json")
        assert response.status_code < 300, (label, response.content[:300])
        touching = [
            q["sql"] for q in captured.captured_queries if PRODUCTION_TABLES.search(q["sql"])
        ]
        assert touching, f"{label} sent no production query"
        fan_outs = [sql for sql in touching if shape(sql) == "fan-out"]
        seen.add(label)
        if fan_outs and label not in FAN_OUTS:
            unlisted.extend(f"{label}: {sql}" for sql in fan_outs)
        if not fan_outs and label in FAN_OUTS:
            listed_but_routed.append(label)

    assert unlisted == []
    assert listed_but_routed == []  # the list says no more than is true
    assert set(FAN_OUTS) <= seen
