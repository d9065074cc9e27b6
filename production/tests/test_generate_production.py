"""`manage.py generate_production --factories N --days D`: synthetic minute-by-minute data."""

from collections import defaultdict
from datetime import UTC, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min, Sum

from inventory.models import Factory
from production.models import ProductionRecord

API = "/sprocketFactory/v1"
MINUTES_PER_DAY = 1440
# Sprockets per minute expected in each local hour of a weekday: night, two shifts, night.
WEEKDAY_GOALS = {**dict.fromkeys(range(6), 8), **dict.fromkeys(range(6, 14), 32)}
WEEKDAY_GOALS |= {**dict.fromkeys(range(14, 22), 28), 22: 8, 23: 8}


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_production", *args, stdout=out)
    return out.getvalue()


def goal_by_local_hour(factory: Factory, day: str) -> dict[int, set[int]]:
    zone = ZoneInfo(factory.timezone)
    goals = defaultdict(set)
    for time, goal in factory.production_records.values_list("time", "sprocket_production_goal"):
        local = time.astimezone(zone)
        if local.date().isoformat() == day:
            goals[local.hour].add(goal)
    return dict(goals)


def test_it_creates_the_factories_asked_for(db):
    generate("--factories", "2", "--days", "1")

    assert list(Factory.objects.values_list("name", flat=True)) == [
        "Generated Factory 1",
        "Generated Factory 2",
    ]


def test_it_creates_a_record_per_minute_per_factory(db):
    generate("--factories", "2", "--days", "1")

    for factory in Factory.objects.all():
        span = factory.production_records.aggregate(first=Min("time"), last=Max("time"))
        assert factory.production_records.count() == MINUTES_PER_DAY
        assert span == {
            "first": datetime(2024, 1, 1, tzinfo=UTC),
            "last": datetime(2024, 1, 1, 23, 59, tzinfo=UTC),
        }


def test_it_reports_how_many_records_it_wrote(db):
    output = generate("--factories", "2", "--days", "1")

    assert "Wrote 2880 records for 2 factories." in output


def test_interval_sets_the_seconds_between_records(db):
    generate("--factories", "1", "--days", "2", "--interval", "3600")

    assert ProductionRecord.objects.count() == 48


def test_weekday_goals_follow_the_shifts(db):
    generate("--factories", "1", "--days", "1", "--start", "2024-01-03")

    goals = goal_by_local_hour(Factory.objects.get(), "2024-01-03")

    assert goals == {hour: {goal} for hour, goal in WEEKDAY_GOALS.items()}


def test_goals_follow_the_shifts_in_the_factorys_own_time_zone(db):
    generate("--factories", "2", "--days", "2", "--start", "2024-01-02")
    berlin = Factory.objects.get(name="Generated Factory 2")

    goals = goal_by_local_hour(berlin, "2024-01-02")

    assert berlin.timezone == "Europe/Berlin"
    assert goals[5] == {8}
    assert goals[6] == {32}


def test_weekend_goals_are_lower_than_weekday_goals(db):
    generate("--factories", "1", "--days", "2", "--start", "2024-01-05")
    plant = Factory.objects.get()

    friday, saturday = (
        goal_by_local_hour(plant, "2024-01-05"),
        goal_by_local_hour(plant, "2024-01-06"),
    )

    assert all(max(saturday[hour]) < min(friday[hour]) for hour in range(24))


def test_actuals_are_never_negative_and_close_to_the_goals(db):
    generate("--factories", "2", "--days", "1")

    totals = ProductionRecord.objects.aggregate(
        lowest=Min("sprocket_production_actual"),
        actual=Sum("sprocket_production_actual"),
        goal=Sum("sprocket_production_goal"),
    )
    assert totals["lowest"] >= 0
    assert 0.85 * totals["goal"] < totals["actual"] < totals["goal"]


def test_actuals_vary_from_minute_to_minute(db):
    generate("--factories", "1", "--days", "1")

    actuals = set(ProductionRecord.objects.values_list("sprocket_production_actual", flat=True))
    assert len(actuals) > 5


def test_the_same_seed_gives_the_same_data(db):
    generate("--factories", "1", "--days", "1", "--seed", "7")
    first = list(ProductionRecord.objects.values_list("time", "sprocket_production_actual"))
    ProductionRecord.objects.all().delete()

    generate("--factories", "1", "--days", "1", "--seed", "7")

    assert list(ProductionRecord.objects.values_list("time", "sprocket_production_actual")) == first


def test_running_it_again_over_the_same_days_is_an_error(db):
    generate("--factories", "2", "--days", "1")

    with pytest.raises(CommandError, match="on-conflict"):
        generate("--factories", "2", "--days", "1")

    assert ProductionRecord.objects.count() == 2 * MINUTES_PER_DAY
    assert Factory.objects.count() == 2


def test_running_it_again_with_on_conflict_skip_keeps_what_exists(db):
    generate("--factories", "2", "--days", "1")

    output = generate("--factories", "2", "--days", "2", "--on-conflict", "skip")

    assert "Wrote 2880 records" in output
    assert ProductionRecord.objects.count() == 2 * 2 * MINUTES_PER_DAY
    assert Factory.objects.count() == 2


def test_running_it_again_with_on_conflict_update_rewrites_the_records(db):
    generate("--factories", "1", "--days", "1", "--seed", "1")
    before = list(ProductionRecord.objects.values_list("sprocket_production_actual", flat=True))

    generate("--factories", "1", "--days", "1", "--seed", "2", "--on-conflict", "update")

    after = list(ProductionRecord.objects.values_list("sprocket_production_actual", flat=True))
    assert len(after) == MINUTES_PER_DAY
    assert after != before


@pytest.mark.parametrize(
    "args",
    [
        ["--factories", "0", "--days", "1"],
        ["--factories", "1", "--days", "0"],
        ["--factories", "1", "--days", "1", "--interval", "0"],
        ["--factories", "1", "--days", "many"],
        ["--factories", "1", "--days", "1", "--start", "last tuesday"],
        ["--factories", "1", "--days", "1", "--on-conflict", "merge"],
        ["--factories", "1"],
    ],
    ids=[
        "no-factories",
        "no-days",
        "no-interval",
        "days-nan",
        "bad-start",
        "bad-mode",
        "no-days-arg",
    ],
)
def test_bad_arguments_are_a_command_error(db, args):
    with pytest.raises(CommandError):
        generate(*args)

    assert not ProductionRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reads_right_after_it_see_the_generated_production(api_client):
    primed = api_client.get(f"{API}/production")
    assert primed.json() == []

    generate("--factories", "1", "--days", "1", "--interval", "3600")

    assert len(api_client.get(f"{API}/production").json()) == 24


@pytest.mark.django_db(transaction=True)
def test_reads_right_after_it_see_the_generated_factories(api_client):
    primed = api_client.get(f"{API}/factories")
    assert primed.json() == []

    generate("--factories", "2", "--days", "1", "--interval", "3600")

    assert [f["name"] for f in api_client.get(f"{API}/factories").json()] == [
        "Generated Factory 1",
        "Generated Factory 2",
    ]
