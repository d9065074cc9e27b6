"""The query vocabulary on /sprockets and /factories, through the API a client calls."""

from datetime import UTC, datetime, timedelta

import pytest

from inventory.tests.factories import FactoryFactory, SprocketFactory

API = "/sprocketFactory/v1"
SPROCKETS = f"{API}/sprockets"
FACTORIES = f"{API}/factories"

# 2021-01-21T02:06:58Z, the first minute of the original data.
T = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
T_UNIX = 1611194818
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
SMALL_MEASURES = {"pitch_diameter": 1, "outside_diameter": 2, "pitch": 1}

pytestmark = pytest.mark.django_db


def created_at(model_factory, when: datetime, **fields):
    """An object whose created_at is `when` (auto_now_add ignores a value given on create)."""
    obj = model_factory(**fields)
    type(obj).objects.filter(pk=obj.pk).update(created_at=when)
    return obj


@pytest.fixture
def sprockets_around_t():
    """Sprockets created just before T, at T, just before T+1h and at T+1h, by name."""
    return {
        name: created_at(SprocketFactory, when, name=name).pk
        for name, when in [
            ("before-t", T - SECOND),
            ("at-t", T),
            ("last-second", T + HOUR - SECOND),
            ("at-t-plus-1h", T + HOUR),
        ]
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()]


def error_fields(response) -> list[str]:
    assert response.status_code == 400, response.content
    return list(response.json())


# after / before on created_at


def test_after_includes_a_sprocket_created_exactly_at_the_bound(api_client, sprockets_around_t):
    response = api_client.get(SPROCKETS, {"after": "2021-01-21T02:06:58Z"})

    assert names(response) == ["at-t", "last-second", "at-t-plus-1h"]


def test_before_excludes_a_sprocket_created_exactly_at_the_bound(api_client, sprockets_around_t):
    response = api_client.get(SPROCKETS, {"before": "2021-01-21T03:06:58Z"})

    assert names(response) == ["before-t", "at-t", "last-second"]


def test_after_and_before_select_the_half_open_window(api_client, sprockets_around_t):
    response = api_client.get(
        SPROCKETS, {"after": "2021-01-21T02:06:58Z", "before": "2021-01-21T03:06:58Z"}
    )

    assert names(response) == ["at-t", "last-second"]


def test_after_with_an_offset_means_the_same_instant_in_utc(api_client, sprockets_around_t):
    response = api_client.get(SPROCKETS, {"after": "2021-01-21T04:06:58+02:00"})

    assert names(response) == ["at-t", "last-second", "at-t-plus-1h"]


def test_before_with_a_negative_offset_means_the_same_instant_in_utc(
    api_client, sprockets_around_t
):
    response = api_client.get(SPROCKETS, {"before": "2021-01-20T22:06:58-05:00"})

    assert names(response) == ["before-t", "at-t", "last-second"]


def test_after_without_an_offset_means_utc(api_client, sprockets_around_t):
    response = api_client.get(SPROCKETS, {"after": "2021-01-21T02:06:58"})

    assert names(response) == ["at-t", "last-second", "at-t-plus-1h"]


def test_after_in_unix_seconds_is_the_same_instant(api_client, sprockets_around_t):
    response = api_client.get(SPROCKETS, {"after": str(T_UNIX)})

    assert names(response) == ["at-t", "last-second", "at-t-plus-1h"]


def test_a_date_only_bound_means_midnight_utc(api_client):
    created_at(SprocketFactory, datetime(2021, 1, 20, 23, 59, 59, tzinfo=UTC), name="eve")
    created_at(SprocketFactory, datetime(2021, 1, 21, tzinfo=UTC), name="midnight")

    assert names(api_client.get(SPROCKETS, {"after": "2021-01-21"})) == ["midnight"]
    assert names(api_client.get(SPROCKETS, {"before": "2021-01-21"})) == ["eve"]


def test_a_window_of_factories_is_half_open_on_created_at(api_client):
    created_at(FactoryFactory, T - SECOND, name="Plant early")
    created_at(FactoryFactory, T, name="Plant at T")
    created_at(FactoryFactory, T + HOUR, name="Plant at T+1h")

    response = api_client.get(FACTORIES, {"after": str(T_UNIX), "before": str(T_UNIX + 3600)})

    assert names(response) == ["Plant at T"]


# contains


def test_contains_matches_sprocket_names_ignoring_case(api_client):
    SprocketFactory(name="Roller Chain 40")
    SprocketFactory(name="roller chain 50")
    SprocketFactory(name="Timing pulley")
    SprocketFactory(name=None)

    response = api_client.get(SPROCKETS, {"contains": "CHAIN"})

    assert names(response) == ["Roller Chain 40", "roller chain 50"]


def test_contains_matches_factory_names_ignoring_case(api_client):
    FactoryFactory(name="Plant Berlin")
    FactoryFactory(name="Plant Lyon")

    assert names(api_client.get(FACTORIES, {"contains": "bERL"})) == ["Plant Berlin"]


def test_contains_of_exactly_three_characters_is_accepted(api_client):
    SprocketFactory(name="Roller Chain 40")

    assert names(api_client.get(SPROCKETS, {"contains": "cha"})) == ["Roller Chain 40"]


@pytest.mark.parametrize("url", [SPROCKETS, FACTORIES])
@pytest.mark.parametrize("text", ["a", "ab", "\u00e9\u00e9"])
def test_contains_shorter_than_three_characters_is_a_400(api_client, url, text):
    assert error_fields(api_client.get(url, {"contains": text})) == ["contains"]


def test_an_empty_contains_means_no_filter(api_client):
    SprocketFactory.create_batch(2)

    assert len(names(api_client.get(SPROCKETS, {"contains": ""}))) == 2


# Numbers: teeth, _min / _max


def test_teeth_selects_an_exact_count(api_client):
    for teeth in (5, 6, 7):
        SprocketFactory(name=f"t{teeth}", teeth=teeth)

    assert names(api_client.get(SPROCKETS, {"teeth": 6})) == ["t6"]


def test_teeth_min_and_max_are_inclusive(api_client):
    for teeth in (4, 5, 6, 7, 8):
        SprocketFactory(name=f"t{teeth}", teeth=teeth)

    response = api_client.get(SPROCKETS, {"teeth_min": 5, "teeth_max": 7})

    assert names(response) == ["t5", "t6", "t7"]


@pytest.mark.parametrize("measure", ["pitch_diameter", "outside_diameter", "pitch"])
def test_a_measure_min_is_inclusive_and_takes_decimals(api_client, measure):
    for value in ("1.2", "1.25", "1.3"):
        SprocketFactory(name=value, **{**SMALL_MEASURES, measure: value})

    assert names(api_client.get(SPROCKETS, {f"{measure}_min": "1.25"})) == ["1.25", "1.3"]


@pytest.mark.parametrize("measure", ["pitch_diameter", "outside_diameter", "pitch"])
def test_a_measure_max_is_inclusive_and_takes_decimals(api_client, measure):
    for value in ("1.2", "1.25", "1.3"):
        SprocketFactory(name=value, **{**SMALL_MEASURES, measure: value})

    assert names(api_client.get(SPROCKETS, {f"{measure}_max": "1.25"})) == ["1.2", "1.25"]


def test_a_measure_min_far_beyond_any_stored_value_selects_nothing(api_client):
    SprocketFactory()

    response = api_client.get(SPROCKETS, {"pitch_min": "99999999999999999999"})

    assert names(response) == []


def test_filters_combine_with_and(api_client):
    SprocketFactory(name="Roller 5", teeth=5)
    SprocketFactory(name="Roller 9", teeth=9)
    SprocketFactory(name="Pulley 9", teeth=9)

    response = api_client.get(SPROCKETS, {"contains": "roller", "teeth_min": 6})

    assert names(response) == ["Roller 9"]


# is_active


def test_is_active_false_selects_archived_factories(api_client):
    FactoryFactory(name="Open", is_active=True)
    FactoryFactory(name="Archived", is_active=False)

    assert names(api_client.get(FACTORIES, {"is_active": "false"})) == ["Archived"]


def test_is_active_true_selects_active_factories(api_client):
    FactoryFactory(name="Open", is_active=True)
    FactoryFactory(name="Archived", is_active=False)

    assert names(api_client.get(FACTORIES, {"is_active": "true"})) == ["Open"]


@pytest.mark.parametrize("value", ["maybe", "yes", "\x00"])
def test_an_is_active_that_is_no_boolean_is_a_400(api_client, value):
    FactoryFactory(is_active=False)

    assert error_fields(api_client.get(FACTORIES, {"is_active": value})) == ["is_active"]


# Bad values: a 400 naming the parameter, never a 500


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("after", "yesterday"),
        ("after", "2021-13-01"),
        ("after", "10000-01-01"),
        ("after", "1000000000000"),
        ("after", "\x00"),
        ("before", "2021-02-30"),
        ("before", "1611194818.5"),
        ("contains", "ab\x00c"),
        ("teeth", "five"),
        ("teeth", "\x00"),
        ("teeth_min", "1.5"),
        ("teeth_min", "99999999999999999999"),
        ("teeth_max", "-99999999999999999999"),
        ("pitch_diameter_min", "wide"),
        ("outside_diameter_max", "\x00"),
        ("pitch_min", "NaN"),
        ("pitch_max", "Infinity"),
        ("pitch_max", "1e400"),
    ],
)
def test_a_bad_sprocket_filter_value_is_a_400_naming_the_parameter(api_client, param, value):
    assert error_fields(api_client.get(SPROCKETS, {param: value})) == [param]


@pytest.mark.parametrize(
    ("param", "value"),
    [("after", "not a time"), ("before", "\x00"), ("contains", "\x00\x00\x00")],
)
def test_a_bad_factory_filter_value_is_a_400_naming_the_parameter(api_client, param, value):
    assert error_fields(api_client.get(FACTORIES, {param: value})) == [param]


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_time_bound_that_overflows_in_utc_is_a_400(api_client, value):
    assert error_fields(api_client.get(SPROCKETS, {"after": value})) == ["after"]
