"""CSV export (DESIGN §4 CSV export, §5, §9): `GET /production?format=csv` and
`/production/{factory_id}?format=csv` stream every matching row, in constant memory, never
cached, throttled apart from other reads, and never to anonymous clients."""

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from rest_framework.throttling import ScopedRateThrottle

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
SOURCE_DIR = django_settings.BASE_DIR / "fixtures" / "source"
HEADER = "id,factory_id,time,sprocket_production_actual,sprocket_production_goal"
START = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttle_history() -> None:
    # Throttle counts live in the cache under the user's id, which SQLite reuses between tests.
    cache.clear()


def export_text(response) -> str:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def export_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export_text(response))))


def utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_line(record: ProductionRecord) -> list[str]:
    return [
        str(record.pk),
        str(record.factory_id),
        utc_z(record.time),
        str(record.sprocket_production_actual),
        str(record.sprocket_production_goal),
    ]


def add_records(factory: Factory, count: int, start: datetime = START) -> list[ProductionRecord]:
    return ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory=factory,
            time=start + i * MINUTE,
            sprocket_production_actual=i % 17,
            sprocket_production_goal=10 + i % 5,
        )
        for i in range(count)
    )


# What is streamed.


def test_a_viewer_export_is_a_streamed_csv_response(viewer, original_data):
    response = viewer.get(f"{PRODUCTION}?format=csv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")


def test_the_export_of_the_original_data_is_its_sixty_rows_exactly(viewer, original_data):
    document = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    expected = [HEADER]
    for position, entry in enumerate(document["factories"], start=1):
        factory = Factory.objects.get(name=f"Factory {position}")
        chart = entry["factory"]["chart_data"]
        for unix, actual, goal in zip(
            chart["time"],
            chart["sprocket_production_actual"],
            chart["sprocket_production_goal"],
            strict=True,
        ):
            moment = datetime.fromtimestamp(unix, UTC)
            record_id = ProductionRecord.objects.get(factory=factory, time=moment).pk
            expected.append(f"{record_id},{factory.pk},{utc_z(moment)},{actual},{goal}")

    text = export_text(viewer.get(f"{PRODUCTION}?format=csv"))

    assert text.splitlines() == expected
    assert len(expected) == 61
    assert text.endswith("\n")


def test_the_export_is_ordered_by_factory_then_time_whatever_the_insert_order(viewer):
    first, second = FactoryFactory(), FactoryFactory()
    # Inserted newest first, the second factory before the first.
    for factory in (second, first):
        for i in reversed(range(5)):
            add_records(factory, 1, start=START + i * MINUTE)

    rows = export_rows(viewer.get(f"{PRODUCTION}?format=csv"))[1:]

    assert [(int(row[1]), row[2]) for row in rows] == [
        (factory.pk, utc_z(START + i * MINUTE)) for factory in (first, second) for i in range(5)
    ]


def test_the_export_is_not_limited_to_one_page(viewer, settings):
    settings.PAGE_SIZE_DEFAULT = 10
    add_records(FactoryFactory(), 35)

    rows = export_rows(viewer.get(f"{PRODUCTION}?format=csv&limit=10"))

    assert len(rows) == 1 + 35


@pytest.mark.parametrize(
    "query",
    [
        "after=2021-01-21T02:20:00Z",
        "before=2021-01-21T03:00:00Z",
        "after=2021-01-21T02:20:00Z&before=2021-01-21T03:00:00Z",
        "ordering=-time",
        "after=2021-01-21T02:20:00Z&before=2021-01-21T03:00:00Z&ordering=-time",
        "sprocket_production_actual_min=5&sprocket_production_goal_max=12&ordering=-time",
    ],
)
def test_a_factory_export_honours_every_filter_and_the_ordering(viewer, query):
    plant, other = FactoryFactory(), FactoryFactory()
    add_records(other, 80)
    records = add_records(plant, 80)
    params = dict(part.split("=") for part in query.split("&"))
    expected = [
        record
        for record in records
        if ("after" not in params or record.time >= datetime.fromisoformat(params["after"]))
        and ("before" not in params or record.time < datetime.fromisoformat(params["before"]))
        and record.sprocket_production_actual
        >= int(params.get("sprocket_production_actual_min", 0))
        and record.sprocket_production_goal <= int(params.get("sprocket_production_goal_max", 99))
    ]
    if params.get("ordering") == "-time":
        expected.reverse()

    rows = export_rows(viewer.get(f"{PRODUCTION}/{plant.pk}?format=csv&{query}"))

    assert rows == [HEADER.split(","), *(csv_line(record) for record in expected)]


def test_the_all_factories_export_honours_factory_id_and_contains(viewer):
    north = FactoryFactory(name="North works")
    south = FactoryFactory(name="South works")
    east = FactoryFactory(name="East works")
    for factory in (north, south, east):
        add_records(factory, 3)

    rows = export_rows(
        viewer.get(f"{PRODUCTION}?format=csv&factory_id={north.pk},{south.pk}&contains=SOUTH")
    )[1:]

    assert {int(row[1]) for row in rows} == {south.pk}
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("path", "filename"),
    [("", "production.csv"), ("/{pk}", "production-factory-{pk}.csv")],
    ids=["all", "one-factory"],
)
def test_an_export_is_an_attachment_with_a_filename(viewer, path, filename):
    plant = FactoryFactory()
    add_records(plant, 2)

    response = viewer.get(f"{PRODUCTION}{path.format(pk=plant.pk)}?format=csv")

    assert response["Content-Disposition"] == (
        f'attachment; filename="{filename.format(pk=plant.pk)}"'
    )


# Who may export.


@pytest.mark.parametrize("path", ["", "/{pk}"], ids=["all", "one-factory"])
def test_an_anonymous_export_is_a_401_even_with_anonymous_reads_on(api_client, settings, path):
    settings.ANONYMOUS_READ = True
    plant = FactoryFactory()
    add_records(plant, 2)

    response = api_client.get(f"{PRODUCTION}{path.format(pk=plant.pk)}?format=csv")

    assert response.status_code == 401
    assert not response.streaming
    assert "detail" in response.json()


def test_anonymous_json_reads_stay_open_with_anonymous_reads_on(api_client, settings):
    settings.ANONYMOUS_READ = True
    add_records(FactoryFactory(), 2)

    response = api_client.get(PRODUCTION)

    assert response.status_code == 200
    assert len(response.json()) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=tuesday", "after"),
        ("sprocket_production_actual_min=many", "sprocket_production_actual_min"),
        ("ordering=sprocket_production_actual", "ordering"),
    ],
    ids=["after", "number", "ordering"],
)
def test_a_bad_filter_on_an_export_is_a_400_in_json(viewer, query, field):
    add_records(FactoryFactory(), 2)

    response = viewer.get(f"{PRODUCTION}?format=csv&{query}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert field in json.dumps(response.json())


# Never cached.


def test_an_export_after_a_write_reflects_it(viewer):
    plant = FactoryFactory()
    add_records(plant, 3)
    first = export_rows(viewer.get(f"{PRODUCTION}/{plant.pk}?format=csv"))
    # Written without bumping the cache generations: only a fresh export can see it.
    ProductionRecord.objects.filter(factory=plant).update(sprocket_production_actual=777)
    add_records(plant, 1, start=START + 10 * MINUTE)

    second = export_rows(viewer.get(f"{PRODUCTION}/{plant.pk}?format=csv"))

    assert len(first) == 4
    assert [row[3] for row in second[1:]] == ["777", "777", "777", "0"]


def test_an_export_carries_no_etag(viewer):
    add_records(FactoryFactory(), 2)

    response = viewer.get(f"{PRODUCTION}?format=csv")

    assert "ETag" not in response


# Throttled apart from other reads.


@pytest.fixture
def two_exports_a_minute(monkeypatch) -> None:
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"export": "2/min", "login": "10/min"}
    )
    cache.clear()


def test_the_third_export_in_a_minute_is_a_429_whichever_path_it_takes(
    viewer, two_exports_a_minute
):
    plant = FactoryFactory()
    add_records(plant, 2)
    paths = [PRODUCTION, f"{PRODUCTION}/{plant.pk}", PRODUCTION]

    statuses = [viewer.get(f"{path}?format=csv").status_code for path in paths]

    assert statuses == [200, 200, 429]


def test_a_throttled_export_is_a_json_429_saying_when_to_retry(viewer, two_exports_a_minute):
    add_records(FactoryFactory(), 2)
    for _ in range(2):
        viewer.get(f"{PRODUCTION}?format=csv")

    response = viewer.get(f"{PRODUCTION}?format=csv")

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()


def test_json_reads_are_not_throttled_by_the_export_rate(viewer, two_exports_a_minute):
    plant = FactoryFactory()
    add_records(plant, 2)
    for _ in range(3):
        viewer.get(f"{PRODUCTION}?format=csv")

    statuses = [
        viewer.get(path).status_code
        for path in (PRODUCTION, f"{PRODUCTION}/{plant.pk}", PRODUCTION, f"{API}/factories")
    ]

    assert statuses == [200, 200, 200, 200]


def test_json_reads_do_not_use_up_the_export_allowance(viewer, two_exports_a_minute):
    plant = FactoryFactory()
    add_records(plant, 2)
    for _ in range(5):
        viewer.get(f"{PRODUCTION}/{plant.pk}")

    statuses = [viewer.get(f"{PRODUCTION}?format=csv").status_code for _ in range(2)]

    assert statuses == [200, 200]


# Constant memory.


def insert_minutes(factory: Factory, count: int) -> None:
    """`count` minute records for one factory, made by the database itself."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO production_productionrecord (factory_id, time, "
                "sprocket_production_actual, sprocket_production_goal) "
                "SELECT %s, %s + make_interval(mins => n), "
                "mod(n, 40), 32 FROM generate_series(0, %s) AS n",
                [factory.pk, START, count - 1],
            )
        else:
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
                "INSERT INTO production_productionrecord (factory_id, time, "
                "sprocket_production_actual, sprocket_production_goal) SELECT %s, datetime(%s, '+' || i || ' minutes'), "
                "i - 40 * (i / 40), 32 FROM n",
                [count - 1, factory.pk, START.strftime("%Y-%m-%d %H:%M:%S")],
            )


def streamed(client, url: str) -> dict:
    """Consumes an export under tracemalloc, keeping only sizes and counts."""
    response = client.get(url)
    assert response.status_code == 200
    stats = {"size": 0, "chunks": 0, "largest_chunk": 0, "lines": 0, "tail": b""}
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            stats["size"] += len(chunk)
            stats["chunks"] += 1
            stats["largest_chunk"] = max(stats["largest_chunk"], len(chunk))
            stats["lines"] += chunk.count(b"\n")
            stats["tail"] = chunk[-100:]
        stats["peak"] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return stats


@pytest.fixture
def large_export(viewer) -> dict:
    """A large factory export, after one a tenth of its size (which also warms up)."""
    rows = 200_000 if connection.vendor == "postgresql" else 20_000
    small, large = FactoryFactory(), FactoryFactory()
    insert_minutes(small, rows // 10)
    insert_minutes(large, rows)
    small_stats = streamed(viewer, f"{PRODUCTION}/{small.pk}?format=csv")
    return {
        "rows": rows,
        "small": small_stats,
        **streamed(viewer, f"{PRODUCTION}/{large.pk}?format=csv"),
    }


def test_a_large_export_streams_every_row(large_export):
    assert large_export["lines"] == large_export["rows"] + 1
    last_minute = utc_z(START + (large_export["rows"] - 1) * MINUTE)
    assert large_export["tail"].decode().splitlines()[-1].split(",")[2] == last_minute


def test_a_large_export_is_streamed_in_many_small_chunks(large_export):
    assert large_export["chunks"] >= 10
    assert large_export["largest_chunk"] <= 128 * 1024


def test_export_memory_does_not_grow_with_the_number_of_rows(large_export):
    # Ten times the rows, about the same peak.
    assert large_export["peak"] < large_export["small"]["peak"] * 1.5 + 64 * 1024, large_export


def test_a_large_export_holds_a_small_fraction_of_its_size_in_memory(on_postgresql, large_export):
    # On SQLite a fixed ~1 MB of 2000-row fetches is more than a tenth of 20,000 rows.
    assert large_export["peak"] < large_export["size"] / 10, large_export
