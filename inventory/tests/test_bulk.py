"""`POST /sprockets/bulk` and `POST /factories/bulk`: managers create many, all or nothing."""

import json

import pytest
from django.conf import settings

from ingest.models import IngestBatch
from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory

API = "/sprocketFactory/v1"
SPROCKETS_BULK = f"{API}/sprockets/bulk"
FACTORIES_BULK = f"{API}/factories/bulk"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"

pytestmark = pytest.mark.django_db


def post(client, url: str, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def sprocket(**fields) -> dict:
    return {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1, **fields}


def factory(name: str, **fields) -> dict:
    return {"name": name, **fields}


# Who may.


@pytest.mark.parametrize(
    ("url", "body"),
    [(SPROCKETS_BULK, [sprocket()]), (FACTORIES_BULK, [factory("Plant Lagos")])],
    ids=["sprockets", "factories"],
)
@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_a_manager_may_bulk_create_the_catalogue(api_client_as, role, url, body):
    response = post(api_client_as(role), url, body)

    assert response.status_code == 403
    assert not Sprocket.objects.exists()
    assert not Factory.objects.exists()


# Sprocket types.


def test_the_original_sprocket_document_creates_three_sprocket_types(manager):
    document = json.loads((SOURCE_DIR / "seed_sprocket_types.json").read_text())

    response = post(manager, SPROCKETS_BULK, document)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    assert Sprocket.objects.count() == 3


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda items: items, id="array"),
        pytest.param(lambda items: {"items": items}, id="items"),
        pytest.param(lambda items: {"sprockets": items}, id="document"),
    ],
)
def test_sprocket_bulk_accepts_each_body_shape(manager, shape):
    response = post(manager, SPROCKETS_BULK, shape([sprocket(name="A"), sprocket(name="B")]))

    assert response.status_code == 201, response.content
    assert sorted(Sprocket.objects.values_list("name", flat=True)) == ["A", "B"]


def test_sprocket_bulk_answers_the_created_count_and_its_batch(manager):
    response = post(manager, SPROCKETS_BULK, [sprocket(), sprocket(), sprocket(name="C")])

    assert response.json() == {
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "batch": IngestBatch.objects.get(resource="sprockets").pk,
    }


def test_sprocket_bulk_writes_nothing_when_one_item_is_bad(manager):
    items = [sprocket(name="A"), sprocket(name="B"), sprocket(name="C", teeth=0)]

    response = post(manager, SPROCKETS_BULK, items)

    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert list(response.json()["2"]) == ["teeth"]
    assert not Sprocket.objects.exists()


def test_sprocket_bulk_lists_every_bad_item_by_index_and_field(manager):
    items = [
        sprocket(pitch=-1),
        sprocket(),
        sprocket(outside_diameter=4),
        sprocket(colour="red"),
    ]

    body = post(manager, SPROCKETS_BULK, items).json()

    assert {index: sorted(fields) for index, fields in body.items()} == {
        "0": ["pitch"],
        "2": ["outside_diameter"],
        "3": ["colour"],
    }


def test_sprocket_bulk_refuses_a_name_repeated_within_the_body_at_the_repeat(manager):
    items = [sprocket(name="A"), sprocket(name="B"), sprocket(name="A")]

    response = post(manager, SPROCKETS_BULK, items)

    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert "name" in response.json()["2"]
    assert not Sprocket.objects.exists()


def test_sprocket_bulk_refuses_a_name_that_exists_at_its_index(manager):
    SprocketFactory(name="B")

    response = post(manager, SPROCKETS_BULK, [sprocket(name="A"), sprocket(name="B")])

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "name" in response.json()["1"]
    assert Sprocket.objects.count() == 1


def test_sprocket_bulk_allows_many_sprockets_without_a_name(manager):
    SprocketFactory(name=None)

    response = post(manager, SPROCKETS_BULK, [sprocket(), sprocket(name="")])

    assert response.status_code == 201, response.content
    assert Sprocket.objects.filter(name=None).count() == 3


# Factories.


def test_factory_bulk_creates_every_factory(manager):
    response = post(
        manager,
        FACTORIES_BULK,
        {"factories": [factory("Plant Lagos"), factory("Plant Osaka", timezone="Asia/Tokyo")]},
    )

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    assert list(Factory.objects.order_by("name").values_list("name", "timezone")) == [
        ("Plant Lagos", "UTC"),
        ("Plant Osaka", "Asia/Tokyo"),
    ]


def test_factory_bulk_writes_nothing_when_one_item_is_bad(manager):
    items = [factory("Plant Lagos"), factory("Plant Osaka", timezone="Mars/Olympus")]

    response = post(manager, FACTORIES_BULK, items)

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert list(response.json()["1"]) == ["timezone"]
    assert not Factory.objects.exists()


def test_factory_bulk_refuses_a_name_repeated_within_the_body_at_the_repeat(manager):
    items = [factory("Plant Lagos"), factory("Plant Lagos")]

    response = post(manager, FACTORIES_BULK, items)

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "name" in response.json()["1"]
    assert not Factory.objects.exists()


def test_factory_bulk_refuses_a_name_that_exists_at_its_index(manager):
    FactoryFactory(name="Plant Osaka")

    response = post(
        manager,
        FACTORIES_BULK,
        [factory("Plant Lagos"), factory("Plant Rio"), factory("Plant Osaka")],
    )

    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert "name" in response.json()["2"]
    assert Factory.objects.count() == 1


def test_factory_bulk_refuses_an_item_without_a_name(manager):
    response = post(manager, FACTORIES_BULK, [factory("Plant Lagos"), {"timezone": "UTC"}])

    assert response.status_code == 400
    assert list(response.json()["1"]) == ["name"]


def test_factory_bulk_is_recorded_as_an_ingest_batch(manager):
    post(manager, FACTORIES_BULK, {"items": [factory("Plant Lagos")]})

    batch = IngestBatch.objects.get()
    assert (batch.resource, batch.shape, batch.created, batch.status_code) == (
        "factories",
        "items",
        1,
        201,
    )


def test_catalogue_bulk_refuses_an_empty_body(manager):
    response = post(manager, FACTORIES_BULK, [])

    assert response.status_code == 400


def test_catalogue_bulk_refuses_more_items_than_bulk_max_rows(manager, settings):
    settings.BULK_MAX_ROWS = 2

    response = post(manager, SPROCKETS_BULK, [sprocket(), sprocket(), sprocket()])

    assert response.status_code == 413
    assert not Sprocket.objects.exists()


@pytest.mark.parametrize("url", [SPROCKETS_BULK, FACTORIES_BULK])
@pytest.mark.parametrize("mode", ["skip", "update"])
def test_catalogue_bulk_refuses_an_on_conflict_mode_other_than_error(manager, url, mode):
    response = manager.post(f"{url}?on_conflict={mode}", [], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["on_conflict"]
