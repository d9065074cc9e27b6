"""`DELETE /production?after=&before=`: every factory's records in a window (issue 14). On
PostgreSQL the time partitions wholly inside the window are emptied at once (TRUNCATE, with
the rollups of their periods) and only the rest is deleted row by row; maintenance then
drops the emptied partitions of past periods."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.utils import DataError

from inventory.tests.factories import FactoryFactory
from production import partition_windows
from production.models import ProductionRecord
from production.partitions import production_partitions_list, production_partitions_maintain
from production.services import production_window_delete
from production.tests.summary_helpers import get_summary, oracle, zones_of
from tests.events_helpers import bus_position, events_since

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
FEBRUARY = "production_productionrecord_p20210201"
READ_FEBRUARY = "SELECT count(*) FROM production_productionrecord_p20210201"

pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def record(factory, time: datetime, actual: int = 30) -> ProductionRecord:
    return ProductionRecord.objects.create(
        factory=factory, time=time, sprocket_production_actual=actual, sprocket_production_goal=32
    )


def times_left() -> list[tuple[str, datetime]]:
    return list(
        ProductionRecord.objects.order_by("factory__name", "time").values_list(
            "factory__name", "time"
        )
    )


# Around a window from 15 January to 20 March 2021: its edges, February whole, and outside.
OUTSIDE = [at(2021, 1, 15) - timedelta(minutes=1), at(2021, 3, 20), at(2021, 4, 2)]
EDGES = [at(2021, 1, 15), at(2021, 1, 31, 23, 59), at(2021, 3, 1), at(2021, 3, 19, 23, 59)]
WHOLE = [at(2021, 2, 1), at(2021, 2, 14, 12, 30), at(2021, 2, 28, 23, 59)]
WINDOW = {"after": iso(at(2021, 1, 15)), "before": iso(at(2021, 3, 20))}


@pytest.fixture
def plants():
    """Two factories with a record at each of OUTSIDE, EDGES and WHOLE (each with its own
    actual), in monthly partitions."""
    factories = [FactoryFactory(name="Plant Lyon"), FactoryFactory(name="Plant Graz")]
    for number, factory in enumerate(factories):
        for minute, time in enumerate(OUTSIDE + EDGES + WHOLE):
            record(factory, time, actual=number * 100 + minute)
    if connection.vendor == "postgresql":
        production_partitions_maintain()
    return factories


def test_every_factory_loses_exactly_its_records_after_up_to_before(manager, plants):
    response = manager.delete(f"{PRODUCTION}?after={WINDOW['after']}&before={WINDOW['before']}")

    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": 2 * len(EDGES + WHOLE)}
    assert times_left() == [
        (plant.name, time) for plant in sorted(plants, key=lambda p: p.name) for time in OUTSIDE
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?after=2021-01-15T00:00:00Z", ["before"]),
        ("", ["after", "before"]),
        ("?after=2021-03-20&before=2021-01-15", ["before"]),
        ("?after=soon&before=2021-01-15", ["after"]),
    ],
)
def test_a_window_without_both_good_bounds_is_a_400_that_deletes_nothing(
    manager, plants, query, named
):
    before = times_left()

    response = manager.delete(f"{PRODUCTION}{query}")

    assert response.status_code == 400
    assert set(named) <= set(response.json())
    assert times_left() == before


@pytest.mark.django_db(transaction=True)  # events are published once the delete commits
def test_it_is_one_delete_event_per_factory(manager, plants):
    position = bus_position()

    manager.delete(f"{PRODUCTION}?after={WINDOW['after']}&before={WINDOW['before']}")

    events = sorted(events_since(position), key=lambda event: event["factory_id"])
    assert [(e["factory_id"], e["action"], e["rows"]) for e in events] == [
        (plant.pk, "delete", len(EDGES + WHOLE)) for plant in plants
    ]
    assert {(event["first"], event["last"]) for event in events} == {
        (iso(EDGES[0]), iso(EDGES[-1]))
    }


def rows_deleted_one_by_one() -> dict[str, int]:
    """Rows this transaction deleted with DELETE, per partition (TRUNCATE counts none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname LIKE 'production_productionrecord_%%' AND n_tup_del > 0"
        )
        return dict(cursor.fetchall())


def rollups_as_stored_and_as_the_records_add_up() -> list[tuple[list, list]]:
    compared = []
    with connection.cursor() as cursor:
        for table, unit in (("hourlyrollup", "hour"), ("dailyrollup", "day")):
            cursor.execute(
                f"SELECT factory_id, {unit}, sprocket_production_actual, "  # noqa: S608 (ours)
                f"sprocket_production_goal, records FROM production_production{table} "
                "ORDER BY 1, 2"
            )
            stored = cursor.fetchall()
            cursor.execute(
                f"SELECT factory_id, date_trunc('{unit}', time, 'UTC'), "  # noqa: S608 (ours)
                "sum(sprocket_production_actual), sum(sprocket_production_goal), count(*) "
                "FROM production_productionrecord GROUP BY 1, 2 ORDER BY 1, 2"
            )
            compared.append((stored, cursor.fetchall()))
    return compared


@pytest.mark.usefixtures("on_postgresql")
def test_a_partition_wholly_inside_is_emptied_at_once_and_only_the_edges_row_by_row(plants):
    stray = record(plants[0], at(2020, 6, 1))  # in the default partition: no June 2020 one
    assert FEBRUARY in [name for name, _, _ in production_partitions_list()]
    earlier = rows_deleted_one_by_one()  # maintenance moving rows out of the default one

    deleted = production_window_delete(
        factory_id=None, after=at(2020, 1, 1), before=at(2021, 3, 20)
    )

    assert deleted == 1 + 2 * len(EDGES + WHOLE) + 2  # the stray, and OUTSIDE's first of each
    assert not ProductionRecord.objects.filter(pk=stray.pk).exists()
    deleted_now = {
        name: count - earlier.get(name, 0)
        for name, count in rows_deleted_one_by_one().items()
        if count != earlier.get(name, 0)
    }
    assert deleted_now == {
        "production_productionrecord_default": 1,
        "production_productionrecord_p20210301": 2 * 2,
    }
    for stored, added_up in rollups_as_stored_and_as_the_records_add_up():
        assert stored == added_up


def window() -> dict[str, datetime]:
    return {bound: datetime.fromisoformat(value) for bound, value in WINDOW.items()}


def records_left() -> list[tuple]:
    return list(
        ProductionRecord.objects.values_list(
            "factory_id", "time", "sprocket_production_actual", "sprocket_production_goal"
        )
    )


@pytest.mark.usefixtures("on_postgresql")
@pytest.mark.parametrize("bucket", ["hour", "day", "month"])
@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu", "America/Chicago"])
def test_summaries_after_it_add_up_the_records_left_in_any_zone(api_client, plants, bucket, tz):
    production_window_delete(factory_id=None, **window())

    answer = get_summary(
        api_client,
        bucket=bucket,
        tz=tz,
        after="2020-12-01T00:00:00Z",
        before="2021-05-01T00:00:00Z",
    )

    assert answer.status_code == 200, answer.content
    assert answer.json() == oracle(records_left(), zones_of(plants), bucket=bucket, tz=tz)


@pytest.mark.usefixtures("on_postgresql")
def test_a_failure_after_emptying_leaves_every_record_and_rollup(plants, monkeypatch):
    before = (sorted(records_left()), rollups_as_stored_and_as_the_records_add_up())
    monkeypatch.setattr(
        partition_windows, "EMPTIED_ROLLUPS", "SELECT cardinality(%s::timestamptz[]) / 0, %s"
    )

    with pytest.raises(DataError):
        production_window_delete(factory_id=None, **window())

    assert (sorted(records_left()), rollups_as_stored_and_as_the_records_add_up()) == before


@pytest.mark.usefixtures("on_postgresql")
def test_a_cached_read_of_an_emptied_partition_is_not_served_again(
    api_client, plants, django_capture_on_commit_callbacks
):
    url = f"{PRODUCTION}/{plants[0].pk}?after=2021-02-01&before=2021-03-01"
    assert len(api_client.get(url).json()) == len(WHOLE)  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        deleted = production_window_delete(
            factory_id=None, after=at(2021, 2, 1), before=at(2021, 3, 1)
        )

    assert deleted == 2 * len(WHOLE)
    assert api_client.get(url).json() == []


@pytest.mark.usefixtures("on_postgresql")
def test_maintenance_drops_the_emptied_partitions_of_past_periods_only(plants, settings):
    production_window_delete(factory_id=None, **window())
    record(plants[0], at(2021, 2, 10))  # February written again: kept
    production_window_delete(factory_id=None, after=at(2021, 4, 1), before=at(2021, 5, 1))
    ahead = [name for name, start, _ in production_partitions_list() if start >= at(2021, 6, 1)]

    done = production_partitions_maintain(now=at(2021, 5, 15))

    assert done.emptied_dropped == ["production_productionrecord_p20210401"]
    names = [name for name, _, _ in production_partitions_list()]
    assert FEBRUARY in names
    assert "production_productionrecord_p20210501" in names
    assert set(ahead) <= set(names)
    assert ProductionRecord.objects.filter(time=at(2021, 2, 10)).exists()


@pytest.mark.parametrize("extra", ["factory_id=1", "contains=Lyon", "limit=5"])
def test_a_filter_on_every_factorys_window_delete_is_a_400_not_ignored(manager, plants, extra):
    before = times_left()

    response = manager.delete(
        f"{PRODUCTION}?after={WINDOW['after']}&before={WINDOW['before']}&{extra}"
    )

    assert response.status_code == 400
    assert extra.split("=")[0] in response.json()
    assert times_left() == before


@pytest.mark.usefixtures("on_postgresql")
@pytest.mark.django_db(transaction=True)
def test_a_partition_held_by_a_reader_is_a_409_and_nothing_is_deleted(plants, settings):
    """A long read (an export) holds February: the delete gives up after
    PARTITION_LOCK_TIMEOUT_SECONDS instead of making everyone queue behind it."""
    import psycopg

    from core.errors import Conflict

    settings.PARTITION_LOCK_TIMEOUT_SECONDS = 0.2
    before = times_left()
    params = connection.get_connection_params()
    with psycopg.connect(**params) as reader:
        reader.execute(READ_FEBRUARY)  # its lock is held until it ends

        with pytest.raises(Conflict):
            production_window_delete(factory_id=None, **window())

    assert times_left() == before


@pytest.mark.usefixtures("on_postgresql")
@pytest.mark.django_db(transaction=True)
def test_maintenance_leaves_a_held_empty_partition_for_its_next_run(plants, settings):
    import psycopg

    settings.PARTITION_LOCK_TIMEOUT_SECONDS = 0.2
    production_window_delete(factory_id=None, **window())
    params = connection.get_connection_params()
    with psycopg.connect(**params) as reader:
        reader.execute(READ_FEBRUARY)

        done = production_partitions_maintain(now=at(2021, 5, 15))

    assert FEBRUARY not in done.emptied_dropped
    assert FEBRUARY in production_partitions_maintain(now=at(2021, 5, 15)).emptied_dropped
