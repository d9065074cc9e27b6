"""GET /production/summary (DESIGN §4 Summary): sums per factory per bucket, in a zone.

Every expectation is computed here, from the records the test wrote, by an oracle that knows
nothing of the rollup: a record's bucket is the local start (in the zone asked for, else the
factory's own) of its hour, day, Monday week or month.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.cache import cache_generations_bump
from inventory.models import FACTORIES, Factory
from inventory.tests.factories import FactoryFactory
from production.models import PRODUCTION, ProductionRecord

SUMMARY = "/sprocketFactory/v1/production/summary"
SOURCE_DIR = django_settings.BASE_DIR / "fixtures" / "source"
BUCKETS = ("hour", "day", "week", "month")
ZONES = ("UTC", "Europe/Berlin", "America/Chicago", "Asia/Kolkata", "Asia/Kathmandu")

# Berlin leaves summer time on 2021-10-31 at 01:00Z, Chicago on 2021-11-07 at 07:00Z; the span
# also crosses a month and several Mondays.
FALL_START = datetime(2021, 10, 24, 0, 7, 13, tzinfo=UTC)
FALL_SPAN = timedelta(days=16)
FALL_STEP = timedelta(minutes=37)
# Cuts an hour at :20, a day in its middle, a week on a Wednesday and one on a Thursday.
CUT_WINDOW = {"after": "2021-10-27T05:20:00Z", "before": "2021-11-04T13:20:00Z"}

pytestmark = pytest.mark.django_db


Record = tuple[int, datetime, int, int]  # factory id, time, actual, goal


def bucket_start(moment: datetime, bucket: str, zone: ZoneInfo) -> datetime:
    """The aware local start of the bucket holding `moment` (fold kept in a repeated hour)."""
    local = moment.astimezone(zone)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    return datetime.combine(day, time(), tzinfo=zone)


def summary_row(factory_id: int, label: str | None, actual: int, goal: int) -> dict:
    return {
        "factory_id": factory_id,
        "bucket": label,
        "sprocket_production_actual": actual,
        "sprocket_production_goal": goal,
        "attainment": round(actual / goal, 4) if goal else None,
    }


def oracle(
    records: Iterable[Record],
    zone_of: dict[int, str],
    *,
    bucket: str,
    tz: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[dict]:
    """Each factory's buckets in time order, then its overall row, factories by id."""
    records = list(records)
    rows = []
    for factory_id in sorted(zone_of):
        zone = ZoneInfo(tz or zone_of[factory_id])
        # Keyed by the UTC instant: two local starts in a repeated hour compare equal.
        sums: dict[datetime, list] = {}
        for owner, moment, actual, goal in records:
            if owner != factory_id:
                continue
            if (after and moment < after) or (before and moment >= before):
                continue
            start = bucket_start(moment, bucket, zone)
            entry = sums.setdefault(start.astimezone(UTC), [start.isoformat(), 0, 0])
            entry[1] += actual
            entry[2] += goal
        rows.extend(summary_row(factory_id, *sums[key]) for key in sorted(sums))
        rows.append(
            summary_row(
                factory_id,
                None,
                sum(entry[1] for entry in sums.values()),
                sum(entry[2] for entry in sums.values()),
            )
        )
    return rows


def store(records: Iterable[Record]) -> list[Record]:
    records = list(records)
    ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory_id=factory_id,
            time=moment,
            sprocket_production_actual=actual,
            sprocket_production_goal=goal,
        )
        for factory_id, moment, actual, goal in records
    )
    # The test's transaction never commits, so the on-commit bumps of real writes never run.
    cache_generations_bump([PRODUCTION, FACTORIES])
    return records


def fall_records(factories: list[Factory]) -> list[Record]:
    records = []
    for position, factory in enumerate(factories):
        moment, step = FALL_START + timedelta(minutes=11 * position), 0
        while moment < FALL_START + FALL_SPAN:
            # Goal 0 now and then: some hours sum to a goal of 0.
            records.append((factory.pk, moment, (step * 7) % 41, (step * 5) % 37))
            moment += FALL_STEP
            step += 1
    return records


def as_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def get_summary(client, **params):
    return client.get(SUMMARY, {k: v for k, v in params.items() if v is not None})


@pytest.fixture
def plants() -> list[Factory]:
    return [
        FactoryFactory(name="Plant Berlin", timezone="Europe/Berlin"),
        FactoryFactory(name="Plant Chicago", timezone="America/Chicago"),
        FactoryFactory(name="Plant Kathmandu", timezone="Asia/Kathmandu"),
    ]


def zones_of(factories: list[Factory]) -> dict[int, str]:
    return {factory.pk: factory.timezone for factory in factories}


# Sums against the oracle.


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("tz", [None, *ZONES], ids=["own-zone", *ZONES])
def test_summary_equals_the_records_summed_per_local_bucket(api_client, plants, bucket, tz):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket=bucket, tz=tz)

    assert response.status_code == 200
    assert response.json() == oracle(records, zones_of(plants), bucket=bucket, tz=tz)


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("tz", [None, *ZONES], ids=["own-zone", *ZONES])
def test_summary_of_a_window_that_cuts_buckets_sums_only_the_records_inside_it(
    api_client, plants, bucket, tz
):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket=bucket, tz=tz, **CUT_WINDOW)

    assert response.status_code == 200
    assert response.json() == oracle(
        records,
        zones_of(plants),
        bucket=bucket,
        tz=tz,
        after=as_utc(CUT_WINDOW["after"]),
        before=as_utc(CUT_WINDOW["before"]),
    )


@pytest.mark.parametrize(
    ("window", "after", "before"),
    [
        ({"after": "2021-10-26T09:20:00Z"}, "2021-10-26T09:20:00Z", None),
        ({"before": "2021-11-03T12:00:00Z"}, None, "2021-11-03T12:00:00Z"),
        # Unix seconds; `after` is 02:20 in Berlin's repeated hour.
        (
            {"after": "1635639600", "before": "1635730800"},
            "2021-10-31T00:20:00Z",
            "2021-11-01T01:40:00Z",
        ),
    ],
    ids=["after-only", "before-only", "unix-seconds"],
)
def test_summary_honours_one_sided_and_unix_second_windows(
    api_client, plants, window, after, before
):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket="hour", **window)

    assert response.json() == oracle(
        records,
        zones_of(plants),
        bucket="hour",
        after=as_utc(after) if after else None,
        before=as_utc(before) if before else None,
    )


# Labels, written out by hand.

ONE_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("bucket", "tz", "label"),
    [
        ("hour", "UTC", "2021-01-21T02:00:00+00:00"),
        ("day", "UTC", "2021-01-21T00:00:00+00:00"),
        ("week", "UTC", "2021-01-18T00:00:00+00:00"),
        ("month", "UTC", "2021-01-01T00:00:00+00:00"),
        ("hour", "Asia/Kolkata", "2021-01-21T07:00:00+05:30"),
        ("day", "Asia/Kolkata", "2021-01-21T00:00:00+05:30"),
        ("hour", "Asia/Kathmandu", "2021-01-21T07:00:00+05:45"),
        ("week", "Asia/Kathmandu", "2021-01-18T00:00:00+05:45"),
        ("day", "America/Chicago", "2021-01-20T00:00:00-06:00"),
        ("month", "Europe/Berlin", "2021-01-01T00:00:00+01:00"),
    ],
)
def test_bucket_label_is_the_iso_local_start_with_its_offset(api_client, bucket, tz, label):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 30, 32)])

    response = get_summary(api_client, bucket=bucket, tz=tz)

    assert [row["bucket"] for row in response.json()] == [label, None]


def test_the_repeated_hour_of_a_dst_change_is_two_buckets_with_their_offsets(api_client):
    plant = FactoryFactory(timezone="Europe/Berlin")
    # 02:30 local twice on 2021-10-31: first in summer time, then in winter time.
    store(
        [
            (plant.pk, datetime(2021, 10, 31, 0, 30, tzinfo=UTC), 1, 2),
            (plant.pk, datetime(2021, 10, 31, 1, 30, tzinfo=UTC), 3, 4),
        ]
    )

    response = get_summary(api_client, bucket="hour")

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in response.json()] == [
        ("2021-10-31T02:00:00+02:00", 1),
        ("2021-10-31T02:00:00+01:00", 3),
        (None, 4),
    ]


def test_a_day_with_a_dst_change_is_one_bucket_of_twenty_five_hours(api_client):
    plant = FactoryFactory(timezone="Europe/Berlin")
    # 00:10 and 23:50 local on the 25-hour day, and 00:10 local the day after.
    store(
        [
            (plant.pk, datetime(2021, 10, 30, 22, 10, tzinfo=UTC), 1, 1),
            (plant.pk, datetime(2021, 10, 31, 22, 50, tzinfo=UTC), 2, 2),
            (plant.pk, datetime(2021, 10, 31, 23, 10, tzinfo=UTC), 4, 4),
        ]
    )

    response = get_summary(api_client, bucket="day")

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in response.json()] == [
        ("2021-10-31T00:00:00+02:00", 3),
        ("2021-11-01T00:00:00+01:00", 4),
        (None, 7),
    ]


def test_weeks_start_on_monday_in_the_zone_used(api_client):
    plant = FactoryFactory()
    # Sunday 23:30 UTC is already Monday in Kolkata.
    store([(plant.pk, datetime(2021, 1, 24, 23, 30, tzinfo=UTC), 5, 5)])

    utc = get_summary(api_client, bucket="week", tz="UTC").json()
    kolkata = get_summary(api_client, bucket="week", tz="Asia/Kolkata").json()

    assert (utc[0]["bucket"], kolkata[0]["bucket"]) == (
        "2021-01-18T00:00:00+00:00",
        "2021-01-25T00:00:00+05:30",
    )


@pytest.mark.parametrize(
    ("tz", "bucket", "boundary"),
    [
        ("Asia/Kolkata", "day", datetime(2021, 1, 20, 18, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", "hour", datetime(2021, 1, 21, 2, 15, tzinfo=UTC)),
        ("America/Chicago", "month", datetime(2021, 2, 1, 6, 0, tzinfo=UTC)),
        ("Europe/Berlin", "week", datetime(2021, 1, 24, 23, 0, tzinfo=UTC)),
    ],
    ids=["kolkata-midnight", "kathmandu-hour", "chicago-month", "berlin-monday"],
)
def test_a_record_at_a_local_bucket_start_opens_that_bucket(api_client, tz, bucket, boundary):
    plant = FactoryFactory()
    store(
        [
            (plant.pk, boundary - timedelta(seconds=1), 1, 1),
            (plant.pk, boundary, 10, 10),
        ]
    )

    rows = get_summary(api_client, bucket=bucket, tz=tz).json()

    assert [
        (
            datetime.fromisoformat(row["bucket"]) if row["bucket"] else None,
            row["sprocket_production_actual"],
        )
        for row in rows
    ] == [
        (bucket_start(boundary - timedelta(seconds=1), bucket, ZoneInfo(tz)), 1),
        (boundary, 10),
        (None, 11),
    ]


def test_a_window_bound_on_a_bucket_start_keeps_before_exclusive(api_client):
    plant = FactoryFactory()
    midnight = datetime(2021, 1, 20, 18, 30, tzinfo=UTC)  # 00:00 in Kolkata
    store([(plant.pk, midnight - timedelta(seconds=1), 1, 1), (plant.pk, midnight, 10, 10)])

    rows = get_summary(
        api_client, bucket="day", tz="Asia/Kolkata", before="2021-01-20T18:30:00Z"
    ).json()

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in rows] == [
        ("2021-01-20T00:00:00+05:30", 1),
        (None, 1),
    ]


# Rows.


def test_each_factory_ends_with_an_overall_row_that_sums_its_buckets(api_client, plants):
    store(fall_records(plants))

    rows = get_summary(api_client, bucket="day").json()

    for plant in plants:
        own = [row for row in rows if row["factory_id"] == plant.pk]
        *buckets, overall = own
        assert overall["bucket"] is None
        assert overall["sprocket_production_actual"] == sum(
            row["sprocket_production_actual"] for row in buckets
        )
        assert overall["sprocket_production_goal"] == sum(
            row["sprocket_production_goal"] for row in buckets
        )
        assert all(row["bucket"] is not None for row in buckets)


def test_attainment_is_actual_over_goal_rounded_to_four_places(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 2, 3)])

    rows = get_summary(api_client, bucket="day").json()

    assert [row["attainment"] for row in rows] == [0.6667, 0.6667]


def test_attainment_is_null_when_the_goal_is_zero(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 5, 0)])

    rows = get_summary(api_client, bucket="day").json()

    assert [(row["sprocket_production_actual"], row["attainment"]) for row in rows] == [
        (5, None),
        (5, None),
    ]


def test_without_tz_each_factory_is_summarised_in_its_own_zone(api_client):
    kolkata = FactoryFactory(timezone="Asia/Kolkata")
    chicago = FactoryFactory(timezone="America/Chicago")
    store([(kolkata.pk, ONE_MINUTE, 1, 1), (chicago.pk, ONE_MINUTE, 1, 1)])

    rows = get_summary(api_client, bucket="day").json()

    assert [row["bucket"] for row in rows] == [
        "2021-01-21T00:00:00+05:30",
        None,
        "2021-01-20T00:00:00-06:00",
        None,
    ]


def test_tz_overrides_every_factory_zone(api_client):
    kolkata = FactoryFactory(timezone="Asia/Kolkata")
    chicago = FactoryFactory(timezone="America/Chicago")
    store([(kolkata.pk, ONE_MINUTE, 1, 1), (chicago.pk, ONE_MINUTE, 1, 1)])

    rows = get_summary(api_client, bucket="day", tz="Europe/Berlin").json()

    assert [row["bucket"] for row in rows] == [
        "2021-01-21T00:00:00+01:00",
        None,
        "2021-01-21T00:00:00+01:00",
        None,
    ]


def test_a_factory_without_records_gets_only_an_overall_row_of_zeros(api_client):
    busy, idle = FactoryFactory(), FactoryFactory()
    store([(busy.pk, ONE_MINUTE, 3, 4)])

    rows = get_summary(api_client, bucket="hour").json()

    assert [row for row in rows if row["factory_id"] == idle.pk] == [
        summary_row(idle.pk, None, 0, 0)
    ]
    assert rows[-1]["attainment"] is None


def test_when_no_factory_has_records_each_gets_an_overall_row_of_zeros(api_client):
    first, second = FactoryFactory(), FactoryFactory()

    rows = get_summary(api_client, bucket="day").json()

    assert rows == [summary_row(first.pk, None, 0, 0), summary_row(second.pk, None, 0, 0)]


def test_a_window_without_records_gives_overall_rows_of_zeros(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 3, 4)])

    rows = get_summary(api_client, bucket="day", after="2022-01-01").json()

    assert rows == [summary_row(plant.pk, None, 0, 0)]


# Choosing factories.


@pytest.mark.parametrize("style", ["repeated", "comma-list"])
def test_factory_id_narrows_the_summary_to_those_factories(api_client, plants, style):
    store(fall_records(plants))
    chosen = [plants[0].pk, plants[2].pk]
    query = (
        "&".join(f"factory_id={pk}" for pk in chosen)
        if style == "repeated"
        else f"factory_id={chosen[0]},{chosen[1]}"
    )

    rows = api_client.get(f"{SUMMARY}?bucket=week&{query}").json()

    assert {row["factory_id"] for row in rows} == set(chosen)
    assert [row for row in rows if row["bucket"] is None] == [
        row
        for row in oracle(fall_records(plants), zones_of(plants), bucket="week")
        if row["bucket"] is None and row["factory_id"] in chosen
    ]


# Bad requests.


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket": "fortnight"}, "bucket"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "+05:30"}, "tz"),
        ({"after": "yesterday"}, "after"),
        ({"before": "2021-13-01"}, "before"),
        ({"after": "2021-02-01", "before": "2021-01-01"}, "before"),
    ],
    ids=["bucket", "tz", "tz-offset", "after", "before", "after-not-before"],
)
def test_a_bad_parameter_is_a_400_naming_it(api_client, params, field):
    FactoryFactory()

    response = get_summary(api_client, **params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("factory_id", ["one", "0", "1,,2"])
def test_a_bad_factory_id_is_a_400_naming_it(api_client, factory_id):
    FactoryFactory()

    response = get_summary(api_client, factory_id=factory_id)

    assert response.status_code == 400
    assert "factory_id" in response.json()


def test_an_empty_factory_id_is_ignored_as_on_the_production_list(api_client):
    plant = FactoryFactory()

    response = api_client.get(f"{SUMMARY}?bucket=day&factory_id=")

    assert response.status_code == 200
    assert response.json() == [summary_row(plant.pk, None, 0, 0)]


def _five_dense_hours() -> Factory:
    plant = FactoryFactory()
    store(
        (plant.pk, datetime(2021, 1, 21, hour, minute, tzinfo=UTC), 1, 1)
        for hour in range(10, 15)
        for minute in (5, 35)
    )
    return plant


def test_a_summary_of_exactly_summary_max_rows_rows_is_answered(api_client, settings):
    _five_dense_hours()
    settings.SUMMARY_MAX_ROWS = 6  # five hours and the overall row

    response = get_summary(api_client, bucket="hour")

    assert response.status_code == 200
    assert len(response.json()) == 6


def test_a_summary_of_more_than_summary_max_rows_rows_is_a_400(api_client, settings):
    _five_dense_hours()
    settings.SUMMARY_MAX_ROWS = 5

    response = get_summary(api_client, bucket="hour")

    assert response.status_code == 400
    assert "SUMMARY_MAX_ROWS" in json.dumps(response.json())


def test_the_original_data_by_day_gives_the_totals_of_the_original_file(api_client, original_data):
    document = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    expected = [
        (
            sum(entry["factory"]["chart_data"]["sprocket_production_actual"]),
            sum(entry["factory"]["chart_data"]["sprocket_production_goal"]),
        )
        for entry in document["factories"]
    ]

    rows = get_summary(api_client, bucket="day").json()

    overall = [
        (row["sprocket_production_actual"], row["sprocket_production_goal"])
        for row in rows
        if row["bucket"] is None
    ]
    by_day = [
        (row["sprocket_production_actual"], row["sprocket_production_goal"])
        for row in rows
        if row["bucket"] is not None
    ]
    assert overall == expected
    assert by_day == expected  # each factory's 20 minutes fall within one UTC day


# The property: any records, bucket, zone and window.

PERIOD_START = datetime(2021, 3, 8, tzinfo=UTC)  # a Monday
PERIOD_SECONDS = 40 * 86400
# Chicago and Berlin enter summer time inside the period; a month starts on 2021-04-01.
CROWDED_MOMENTS = [
    int((moment - PERIOD_START).total_seconds())
    for moment in (
        datetime(2021, 3, 14, 8, tzinfo=UTC),
        datetime(2021, 3, 28, 1, tzinfo=UTC),
        datetime(2021, 4, 1, tzinfo=UTC),
        datetime(2021, 3, 15, tzinfo=UTC),  # a Monday
    )
]

# Anywhere in the period, or crowded within hours of a DST change or a week or month start,
# where local bucket starts differ most between zones.
seconds_in_period = st.one_of(
    st.integers(0, PERIOD_SECONDS - 1),
    st.builds(int.__add__, st.sampled_from(CROWDED_MOMENTS), st.integers(-7 * 3600, 7 * 3600)),
)


@st.composite
def summary_cases(draw) -> dict:
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3))
    records = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(zones) - 1),
                seconds_in_period,
                st.integers(0, 60),
                st.one_of(st.just(0), st.integers(0, 60)),
            ),
            max_size=60,
        )
    )
    window = draw(
        st.tuples(
            st.one_of(st.none(), st.integers(-86400, PERIOD_SECONDS)),
            st.one_of(st.none(), st.integers(-86400, PERIOD_SECONDS + 86400)),
        )
    )
    return {
        "zones": zones,
        "records": records,
        "bucket": draw(st.sampled_from(BUCKETS)),
        "tz": draw(st.one_of(st.none(), st.sampled_from(ZONES))),
        "window": window,
        "time_format": draw(st.sampled_from(["iso", "unix"])),
    }


def _moment(offset: int) -> datetime:
    return PERIOD_START + timedelta(seconds=offset)


def _as_param(moment: datetime | None, time_format: str) -> str | None:
    if moment is None:
        return None
    if time_format == "unix":
        return str(int(moment.timestamp()))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=summary_cases())
def test_summary_equals_the_oracle_for_any_records_bucket_zone_and_window(api_client, case):
    after_offset, before_offset = case["window"]
    assume(after_offset is None or before_offset is None or after_offset < before_offset)
    ProductionRecord.objects.all().delete()
    Factory.objects.all().delete()
    factories = [FactoryFactory(timezone=zone) for zone in case["zones"]]
    unique = {
        (factories[position].pk, _moment(offset)): (actual, goal)
        for position, offset, actual, goal in case["records"]
    }
    records = store((pk, moment, *values) for (pk, moment), values in unique.items())
    after = _moment(after_offset) if after_offset is not None else None
    before = _moment(before_offset) if before_offset is not None else None

    response = get_summary(
        api_client,
        bucket=case["bucket"],
        tz=case["tz"],
        after=_as_param(after, case["time_format"]),
        before=_as_param(before, case["time_format"]),
    )

    assert response.status_code == 200
    assert response.json() == oracle(
        records,
        zones_of(factories),
        bucket=case["bucket"],
        tz=case["tz"],
        after=after,
        before=before,
    )


def test_empty_query_values_mean_no_value_as_in_every_list(api_client):
    response = api_client.get(
        "/sprocketFactory/v1/production/summary",
        {"after": "", "before": "", "tz": "", "bucket": ""},
    )

    assert response.status_code == 200


def test_chart_data_with_more_factories_than_points_allowed_is_a_400(api_client, settings):
    settings.CHART_MAX_POINTS = 2
    for name in ("A plant", "B plant", "C plant"):
        FactoryFactory(name=name)

    response = api_client.get("/sprocketFactory/v1/factories/chart-data")

    assert response.status_code == 400
    assert "factories" in response.json()["detail"]
