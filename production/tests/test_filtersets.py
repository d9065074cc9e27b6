"""The query vocabulary on /production and /production/{factory_id}, through the API."""

from datetime import UTC, datetime

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.tests.factories import FIRST_MINUTE, FIRST_MINUTE_UNIX, MINUTE, create_records

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"

pytestmark = pytest.mark.django_db


@pytest.fixture
def berlin():
    """Plant Berlin with ten records, one a minute from FIRST_MINUTE."""
    factory = FactoryFactory(name="Plant Berlin")
    create_records(factory, 10)
    return factory


@pytest.fixture(params=["all", "one"])
def url_of(request):
    """Each test runs on /production and on /production/{factory_id}."""

    def url(factory: Factory) -> str:
        return PRODUCTION if request.param == "all" else f"{PRODUCTION}/{factory.pk}"

    return url


def minutes(response) -> list[int]:
    """The listed records' minutes after FIRST_MINUTE."""
    assert response.status_code == 200, response.content
    return [
        int((datetime.fromisoformat(r["time"]) - FIRST_MINUTE) / MINUTE) for r in response.json()
    ]


def error_fields(response) -> list[str]:
    assert response.status_code == 400, response.content
    return list(response.json())


# after / before on time: the window is [after, before)


def test_after_includes_a_record_exactly_at_the_bound(api_client, berlin, url_of):
    response = api_client.get(url_of(berlin), {"after": "2021-01-21T02:09:58Z"})

    assert minutes(response) == [3, 4, 5, 6, 7, 8, 9]


def test_before_excludes_a_record_exactly_at_the_bound(api_client, berlin, url_of):
    response = api_client.get(url_of(berlin), {"before": "2021-01-21T02:12:58Z"})

    assert minutes(response) == [0, 1, 2, 3, 4, 5]


def test_after_and_before_select_the_half_open_window(api_client, berlin, url_of):
    response = api_client.get(
        url_of(berlin), {"after": "2021-01-21T02:09:58Z", "before": "2021-01-21T02:12:58Z"}
    )

    assert minutes(response) == [3, 4, 5]


def test_a_bound_one_second_past_a_record_excludes_it_from_after(api_client, berlin, url_of):
    response = api_client.get(url_of(berlin), {"after": "2021-01-21T02:09:59Z"})

    assert minutes(response) == [4, 5, 6, 7, 8, 9]


def test_bounds_with_offsets_mean_the_same_instants_in_utc(api_client, berlin, url_of):
    response = api_client.get(
        url_of(berlin),
        {"after": "2021-01-21T04:09:58+02:00", "before": "2021-01-20T21:12:58-05:00"},
    )

    assert minutes(response) == [3, 4, 5]


def test_bounds_without_an_offset_mean_utc(api_client, berlin, url_of):
    response = api_client.get(
        url_of(berlin), {"after": "2021-01-21T02:09:58", "before": "2021-01-21T02:12:58"}
    )

    assert minutes(response) == [3, 4, 5]


def test_bounds_in_unix_seconds_mean_the_same_instants(api_client, berlin, url_of):
    response = api_client.get(
        url_of(berlin),
        {"after": FIRST_MINUTE_UNIX + 3 * 60, "before": FIRST_MINUTE_UNIX + 6 * 60},
    )

    assert minutes(response) == [3, 4, 5]


def test_a_date_only_bound_means_midnight_utc(api_client, url_of):
    factory = FactoryFactory()
    create_records(factory, 4, start=datetime(2021, 1, 20, 23, 58, tzinfo=UTC))

    after = api_client.get(url_of(factory), {"after": "2021-01-21"}).json()
    before = api_client.get(url_of(factory), {"before": "2021-01-21"}).json()

    assert [r["time"] for r in after] == ["2021-01-21T00:00:00Z", "2021-01-21T00:01:00Z"]
    assert [r["time"] for r in before] == ["2021-01-20T23:58:00Z", "2021-01-20T23:59:00Z"]


# contains: the factory's name


def test_contains_matches_the_factory_name_ignoring_case(api_client, berlin):
    create_records(FactoryFactory(name="Plant Lyon"), 3)

    response = api_client.get(PRODUCTION, {"contains": "BERL"})

    assert {r["factory_id"] for r in response.json()} == {berlin.pk}
    assert len(response.json()) == 10


def test_contains_that_matches_no_factory_answers_an_empty_array(api_client, berlin):
    assert api_client.get(PRODUCTION, {"contains": "Osaka"}).json() == []


@pytest.mark.parametrize("text", ["B", "Be"])
def test_contains_shorter_than_three_characters_is_a_400(api_client, berlin, url_of, text):
    assert error_fields(api_client.get(url_of(berlin), {"contains": text})) == ["contains"]


# factory_id: repeatable


@pytest.fixture
def three_factories():
    factories = [FactoryFactory() for _ in range(3)]
    for factory in factories:
        create_records(factory, 2)
    return factories


def test_factory_id_selects_one_factory(api_client, three_factories):
    first, _, _ = three_factories

    response = api_client.get(PRODUCTION, {"factory_id": first.pk})

    assert [r["factory_id"] for r in response.json()] == [first.pk, first.pk]


def test_factory_id_repeated_selects_any_of_the_factories(api_client, three_factories):
    first, _, third = three_factories

    response = api_client.get(f"{PRODUCTION}?factory_id={first.pk}&factory_id={third.pk}")

    assert [r["factory_id"] for r in response.json()] == [first.pk] * 2 + [third.pk] * 2


def test_factory_id_as_a_comma_separated_list_selects_any_of_the_factories(
    api_client, three_factories
):
    first, second, _ = three_factories

    response = api_client.get(f"{PRODUCTION}?factory_id={first.pk},{second.pk}")

    assert response.status_code == 200
    assert [r["factory_id"] for r in response.json()] == [first.pk] * 2 + [second.pk] * 2


def test_factory_id_of_no_factory_answers_an_empty_array(api_client, three_factories):
    assert api_client.get(PRODUCTION, {"factory_id": 999}).json() == []


@pytest.mark.parametrize("value", ["one", "0", "-1", "1.5", "99999999999999999999", "1,x", "\x00"])
def test_a_factory_id_that_is_no_id_is_a_400_naming_it(api_client, value):
    assert error_fields(api_client.get(PRODUCTION, {"factory_id": value})) == ["factory_id"]


# Counts: _min / _max, inclusive


@pytest.fixture
def counts():
    """Records of one factory with actual = goal = 10, 20, 30, 40, 50."""
    factory = FactoryFactory()
    for i, count in enumerate((10, 20, 30, 40, 50)):
        create_records(
            factory,
            1,
            start=FIRST_MINUTE + i * MINUTE,
            sprocket_production_actual=count,
            sprocket_production_goal=count,
        )
    return factory


@pytest.mark.parametrize("field", ["sprocket_production_actual", "sprocket_production_goal"])
def test_a_count_min_is_inclusive(api_client, counts, url_of, field):
    response = api_client.get(url_of(counts), {f"{field}_min": 30})

    assert [r[field] for r in response.json()] == [30, 40, 50]


@pytest.mark.parametrize("field", ["sprocket_production_actual", "sprocket_production_goal"])
def test_a_count_max_is_inclusive(api_client, counts, url_of, field):
    response = api_client.get(url_of(counts), {f"{field}_max": 30})

    assert [r[field] for r in response.json()] == [10, 20, 30]


def test_count_min_and_max_together_select_a_range(api_client, counts, url_of):
    response = api_client.get(
        url_of(counts),
        {"sprocket_production_actual_min": 20, "sprocket_production_actual_max": 40},
    )

    assert [r["sprocket_production_actual"] for r in response.json()] == [20, 30, 40]


def test_filters_combine_with_and(api_client, counts, url_of):
    response = api_client.get(
        url_of(counts),
        {"sprocket_production_goal_min": 20, "before": "2021-01-21T02:09:58Z"},
    )

    assert [r["sprocket_production_goal"] for r in response.json()] == [20, 30]


# Bad values: a 400 naming the parameter, never a 500


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("after", "soon"),
        ("after", "2021-02-30"),
        ("after", "10000-01-01"),
        ("after", "1000000000000"),
        ("after", "\x00"),
        ("before", "2021-01-21T25:00:00"),
        ("before", "1611194818.5"),
        ("contains", "Pla\x00nt"),
        ("sprocket_production_actual_min", "lots"),
        ("sprocket_production_actual_min", "1.5"),
        ("sprocket_production_actual_min", "99999999999999999999"),
        ("sprocket_production_actual_max", "-99999999999999999999"),
        ("sprocket_production_goal_min", "\x00"),
        ("sprocket_production_goal_max", "NaN"),
        ("sprocket_production_goal_max", "2147483648"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(api_client, berlin, url_of, param, value):
    assert error_fields(api_client.get(url_of(berlin), {param: value})) == [param]


def test_the_largest_32_bit_count_is_a_valid_bound(api_client, berlin, url_of):
    response = api_client.get(url_of(berlin), {"sprocket_production_goal_max": 2147483647})

    assert len(response.json()) == 10


def test_every_bad_parameter_is_named_at_once(api_client, berlin):
    response = api_client.get(
        PRODUCTION, {"after": "soon", "factory_id": "x", "sprocket_production_goal_min": "y"}
    )

    assert sorted(error_fields(response)) == ["after", "factory_id", "sprocket_production_goal_min"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("after", "9999-12-31T23:59:59-01:00"), ("before", "0001-01-01T00:00:00+01:00")],
)
def test_a_time_bound_that_overflows_in_utc_is_a_400(api_client, berlin, param, value):
    assert error_fields(api_client.get(PRODUCTION, {param: value})) == [param]
