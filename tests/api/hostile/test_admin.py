"""Hostile values in the admin's searches, filters and object ids: never a 500. PostgreSQL
refuses a NUL in any text it is sent, so a NUL may not reach a query."""

import pytest
from django.contrib import admin

from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.tests.factories import create_records
from tests.api.hostile.helpers import ARABIC_INDIC_DIGITS

AUTOCOMPLETE = "/admin/autocomplete/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(staff_client):
    staff_client.raise_request_exception = False
    return staff_client


@pytest.fixture
def world():
    factory = FactoryFactory(name="Plant Berlin")
    create_records(factory, 2)
    return {"factory": factory, "sprocket": SprocketFactory()}


def changelist_url(model) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def autocomplete(staff, term: str):
    return staff.get(
        AUTOCOMPLETE,
        {
            "app_label": "production",
            "model_name": "productionrecord",
            "field_name": "factory",
            "term": term,
        },
    )


@pytest.mark.parametrize("term", ["\x00", "Plant\x00", "\x00Berlin"])
def test_an_autocomplete_term_with_a_nul_finds_nothing(staff, world, term):
    response = autocomplete(staff, term)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_autocomplete_term_without_a_nul_still_finds(staff, world):
    response = autocomplete(staff, "Berl")

    assert [r["text"] for r in response.json()["results"]] == ["Plant Berlin"]


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_a_search_with_a_nul_on_every_admin_is_not_an_error(staff, world, model):
    response = staff.get(changelist_url(model), {"q": "Plant\x00"})

    assert response.status_code in (200, 302)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/admin/inventory/sprocket/", "teeth"),
        ("/admin/inventory/factory/", "is_active__exact"),
        ("/admin/inventory/factory/", "timezone"),
        ("/admin/production/productionrecord/", "factory"),
        ("/admin/production/productionrecord/", "time__gte"),
        ("/admin/production/productionrecord/", "time__lt"),
    ],
)
def test_a_list_filter_value_with_a_nul_is_the_admin_s_bad_filter_answer(
    staff, world, path, parameter
):
    response = staff.get(path, {parameter: "UTC\x00"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_list_filter_value_without_a_nul_still_filters(staff, world):
    response = staff.get("/admin/inventory/factory/", {"timezone": "UTC"})

    assert response.status_code == 200
    assert b"Plant Berlin" in response.content


@pytest.mark.parametrize("kind", ["sprocket", "factory"])
def test_an_object_id_in_another_script_s_digits_is_not_found(staff, world, kind):
    obj = world[kind]
    object_id = str(obj.pk).translate(ARABIC_INDIC_DIGITS)

    response = staff.get(f"{changelist_url(type(obj))}{object_id}/change/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("object_id", ["%00", "1%00"])
def test_an_object_id_with_a_nul_is_not_found(staff, world, object_id):
    response = staff.get(f"/admin/inventory/factory/{object_id}/change/")

    assert response.status_code == 302
