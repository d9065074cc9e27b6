"""Hostile values in query parameters, paths and bodies get a JSON 4xx naming what was wrong:
numbers no column can hold or compare with, NUL characters, digits of other scripts."""

import pytest

from inventory.models import Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.models import ProductionRecord
from tests.api.hostile.helpers import API, ARABIC_INDIC_DIGITS, assert_json_error

ARABIC_ONE = "\N{ARABIC-INDIC DIGIT ONE}"
FULLWIDTH_DIGITS = str.maketrans("0123456789", "".join(map(chr, range(0xFF10, 0xFF1A))))

pytestmark = pytest.mark.django_db


# --- Numbers in filters (issue 10, item 6) -------------------------------------------------------

# Values no numeric(12, 4) or integer column can hold, or that are not numbers at all.
UNREPRESENTABLE = [
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "-1e400",
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "-1e-999999999",
    "1e-131072",
    "0.00001",
    "1" * 5000,
    ARABIC_ONE,
]
SPROCKET_INTEGERS = ["teeth", "teeth_min", "teeth_max"]
SPROCKET_MEASURES = [
    "pitch_diameter_min",
    "pitch_diameter_max",
    "outside_diameter_min",
    "outside_diameter_max",
    "pitch_min",
    "pitch_max",
]
PRODUCTION_NUMBERS = [
    "sprocket_production_actual_min",
    "sprocket_production_actual_max",
    "sprocket_production_goal_min",
    "sprocket_production_goal_max",
]


def integer_filters(plant) -> list[tuple[str, str]]:
    return [
        *(("/sprockets", name) for name in SPROCKET_INTEGERS),
        *(("/production", name) for name in PRODUCTION_NUMBERS),
        *((f"/production/{plant.id}", name) for name in PRODUCTION_NUMBERS),
    ]


def numeric_filters(plant) -> list[tuple[str, str]]:
    return [*integer_filters(plant), *(("/sprockets", name) for name in SPROCKET_MEASURES)]


@pytest.mark.parametrize("value", UNREPRESENTABLE, ids=lambda v: v[:12])
def test_a_number_no_column_can_hold_is_a_400_naming_the_parameter_on_every_list(
    hostile, plant, value
):
    SprocketFactory()
    for path, name in numeric_filters(plant):
        response = hostile.get(f"{API}{path}", {name: value})

        assert name in assert_json_error(response, 400), (path, name)


@pytest.mark.parametrize("value", ["1e51", "-1e51", "1.00005"])
def test_a_measure_past_1e50_or_finer_than_the_column_is_a_400_naming_the_parameter(hostile, value):
    for name in SPROCKET_MEASURES:
        response = hostile.get(f"{API}/sprockets", {name: value})

        assert name in assert_json_error(response, 400), name


@pytest.mark.parametrize("value", ["2147483648", "-2147483649", "0.5"])
def test_an_integer_beyond_int32_is_a_400_naming_the_parameter(hostile, plant, value):
    for path, name in integer_filters(plant):
        response = hostile.get(f"{API}{path}", {name: value})

        assert name in assert_json_error(response, 400), (path, name)


@pytest.mark.parametrize("value", UNREPRESENTABLE, ids=lambda v: v[:12])
@pytest.mark.parametrize("path", ["/production", "/production/summary"])
def test_an_id_that_is_no_whole_number_is_a_400_naming_the_parameter(hostile, plant, path, value):
    response = hostile.get(f"{API}{path}", {"factory_id": value})

    assert "factory_id" in assert_json_error(response, 400)


@pytest.mark.parametrize(
    ("name", "value", "count"),
    [
        ("pitch_min", "-99999999.9999", 2),
        ("pitch_max", "99999999.9999", 2),
        ("pitch_min", "-1e50", 2),
        ("pitch_max", "1e50", 2),
        ("pitch_min", "1e50", 0),
        ("pitch_max", "-1e50", 0),
        ("pitch_min", "1.5", 1),
        ("pitch_max", "1.0001", 1),
        ("outside_diameter_max", "6", 1),
        ("pitch_diameter_min", "1e1", 1),
        ("teeth_min", "-2147483648", 2),
        ("teeth_max", "2147483647", 2),
        ("teeth", "1e1", 1),
    ],
)
def test_a_number_the_column_can_hold_filters_as_it_says(hostile, name, value, count):
    SprocketFactory(teeth=5, pitch_diameter=5, outside_diameter=6, pitch=1)
    SprocketFactory(teeth=10, pitch_diameter=10, outside_diameter=12, pitch=2)

    response = hostile.get(f"{API}/sprockets", {name: value})

    assert response.status_code == 200, response.content
    assert len(response.json()) == count


# --- NUL characters in text (item 7) --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sprockets", "/factories", "/production"])
def test_contains_with_a_nul_is_a_400_naming_it(hostile, plant, path):
    response = hostile.get(f"{API}{path}", {"contains": "Pla\x00nt"})

    assert "contains" in assert_json_error(response, 400)


@pytest.mark.parametrize(("name", "value"), [("tz", "UTC\x00"), ("bucket", "day\x00")])
def test_a_summary_parameter_with_a_nul_is_a_400_naming_it(hostile, plant, name, value):
    response = hostile.get(f"{API}/production/summary", {name: value})

    assert name in assert_json_error(response, 400)


def test_a_factory_name_with_a_nul_is_a_400(manager):
    response = manager.post(f"{API}/factories", {"name": "Plant\x00"}, format="json")

    assert "name" in assert_json_error(response, 400)


# --- Digits of other scripts in paths and queries (item 12) ---------------------------------------


@pytest.mark.parametrize("digits", [ARABIC_INDIC_DIGITS, FULLWIDTH_DIGITS], ids=["arabic", "wide"])
@pytest.mark.parametrize(
    "template",
    [
        "/sprockets/{sprocket}",
        "/factories/{factory}",
        "/factories/{factory}/chart-data",
        "/production/records/{record}",
        "/production/{factory}",
    ],
)
def test_an_id_in_another_script_s_digits_is_a_json_404(manager, plant, digits, template):
    ids = {
        "sprocket": SprocketFactory().id,
        "factory": plant.id,
        "record": ProductionRecord.objects.filter(factory=plant).first().id,
    }
    path = template.format(**{k: str(v).translate(digits) for k, v in ids.items()})

    for method in ["get", "delete"]:
        response = getattr(manager, method)(f"{API}{path}")

        assert assert_json_error(response, 404) == {"detail": "Not found."}, (method, path)
    assert ProductionRecord.objects.count() == 3
    assert Sprocket.objects.filter(pk=ids["sprocket"]).exists()


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/sprockets", "teeth"),
        ("/sprockets", "pitch_min"),
        ("/production", "factory_id"),
        ("/production", "sprocket_production_goal_max"),
        ("/production", "after"),
        ("/production", "limit"),
    ],
)
def test_a_query_number_in_another_script_s_digits_is_a_400_naming_it(hostile, plant, path, name):
    response = hostile.get(f"{API}{path}", {name: ARABIC_ONE})

    assert name in assert_json_error(response, 400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("sprockets", {"teeth": "\u0665", "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}),
        ("sprockets", {"teeth": 5, "pitch_diameter": "\uff15", "outside_diameter": 6, "pitch": 1}),
        (
            "sprockets/bulk",
            [{"teeth": "\u0665", "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}],
        ),
    ],
)
def test_a_number_written_in_another_script_s_digits_is_a_400_in_a_body(manager, path, body):
    response = manager.post(f"{API}/{path}", body, format="json")

    assert response.status_code == 400


def test_a_factory_id_written_in_another_script_s_digits_is_a_400(manager):
    plant = FactoryFactory()
    body = {
        "factory_id": str(plant.pk).translate(
            str.maketrans("0123456789", "".join(map(chr, range(0x660, 0x66A))))
        ),
        "time": "2021-01-21T02:06:58Z",
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 1,
    }

    response = manager.post(f"{API}/production", body, format="json")

    assert response.status_code == 400
    assert "factory_id" in response.json()
