"""`DELETE /production/{factory_id}?after=&before=`: one factory's records in a window."""

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.factories import FIRST_MINUTE, FIRST_MINUTE_UNIX, MINUTE, create_records

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"

pytestmark = pytest.mark.django_db
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


@pytest.fixture
def ten_minutes(plant):
    """Ten records of `plant`, one a minute from FIRST_MINUTE, and ten of another factory."""
    create_records(plant, 10)
    create_records(FactoryFactory(name="Plant Lyon"), 10)
    return plant


def remaining_minutes(factory: Factory) -> list[int]:
    times = ProductionRecord.objects.filter(factory=factory).order_by("time")
    return [int((t - FIRST_MINUTE) / MINUTE) for t in times.values_list("time", flat=True)]


@with_and_without_slash
def test_deleting_a_window_deletes_exactly_after_up_to_before(manager, ten_minutes, slash):
    response = manager.delete(
        f"{PRODUCTION}/{ten_minutes.pk}{slash}"
        "?after=2021-01-21T02:08:58Z&before=2021-01-21T02:11:58Z"
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert remaining_minutes(ten_minutes) == [0, 1, 5, 6, 7, 8, 9]


def test_deleting_a_window_leaves_other_factories_untouched(manager, ten_minutes):
    manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2021-01-21&before=2021-01-22")

    assert remaining_minutes(ten_minutes) == []
    assert ProductionRecord.objects.exclude(factory=ten_minutes).count() == 10


def test_deleting_a_window_takes_unix_seconds_and_offsets(manager, ten_minutes):
    after = FIRST_MINUTE_UNIX + 60
    response = manager.delete(
        f"{PRODUCTION}/{ten_minutes.pk}?after={after}&before=2021-01-21T04:09:58%2B02:00"
    )

    assert response.json() == {"deleted": 2}
    assert remaining_minutes(ten_minutes) == [0, 3, 4, 5, 6, 7, 8, 9]


def test_deleting_an_empty_window_answers_zero(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2020-01-01&before=2020-02-01")

    assert response.json() == {"deleted": 0}
    assert ProductionRecord.objects.count() == 20


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        ("?after=2021-01-21", ["before"]),
        ("?before=2021-01-22", ["after"]),
        ("", ["after", "before"]),
    ],
)
def test_deleting_a_window_without_both_bounds_is_a_400_naming_them(
    manager, ten_minutes, query, missing
):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}{query}")

    assert response.status_code == 400
    assert sorted(response.json()) == missing
    assert ProductionRecord.objects.count() == 20


def test_deleting_a_window_that_ends_before_it_starts_is_a_400(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2021-01-22&before=2021-01-21")

    assert response.status_code == 400
    assert ProductionRecord.objects.count() == 20


def test_deleting_a_window_with_a_bad_bound_is_a_400_naming_it(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=soon&before=2021-01-22")

    assert response.status_code == 400
    assert list(response.json()) == ["after"]


def test_deleting_a_window_of_an_unknown_factory_is_a_404(manager):
    response = manager.delete(f"{PRODUCTION}/999?after=2021-01-21&before=2021-01-22")

    assert response.status_code == 404
