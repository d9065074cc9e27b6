"""A factory with production is archived, never deleted: the API and the admin say so."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.factories import ProductionRecordFactory

FACTORIES = "/sprocketFactory/v1/factories"
FACTORY_CHANGELIST = reverse("admin:inventory_factory_changelist")
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def listed(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def admin_page_url(page: str, factory: Factory) -> str:
    return reverse(f"admin:inventory_factory_{page}", args=[factory.pk])


def give_production(factory: Factory) -> ProductionRecord:
    return ProductionRecordFactory(factory=factory)


@with_and_without_slash
def test_archiving_a_factory_with_a_patch_keeps_it_and_its_production(manager, slash):
    factory = FactoryFactory()
    give_production(factory)

    response = manager.patch(
        f"{FACTORIES}/{factory.pk}{slash}", {"is_active": False}, format="json"
    )

    assert response.status_code == 200
    assert Factory.objects.get(pk=factory.pk).is_active is False
    assert ProductionRecord.objects.filter(factory=factory).count() == 1


def test_deleting_a_factory_with_production_is_a_409(manager):
    factory = FactoryFactory()
    give_production(factory)

    response = manager.delete(f"{FACTORIES}/{factory.pk}")

    assert response.status_code == 409
    assert Factory.objects.filter(pk=factory.pk).exists()
    assert ProductionRecord.objects.filter(factory=factory).count() == 1


def test_the_409_for_a_factory_with_production_says_to_archive_it(manager):
    factory = FactoryFactory()
    give_production(factory)

    detail = manager.delete(f"{FACTORIES}/{factory.pk}").json()["detail"]

    assert "archive" in detail.lower()
    assert "is_active" in detail


def test_refusing_to_delete_a_factory_with_production_reads_none_of_its_records(manager):
    factory = FactoryFactory()
    ProductionRecordFactory.create_batch(50, factory=factory)

    with CaptureQueriesContext(connection) as queries:
        response = manager.delete(f"{FACTORIES}/{factory.pk}")

    assert response.status_code == 409
    reads = [q["sql"] for q in queries if 'FROM "production_productionrecord"' in q["sql"]]
    assert reads
    assert all("LIMIT 1" in sql for sql in reads)


def test_the_change_page_of_a_factory_with_production_loads(staff_client):
    factory = FactoryFactory(name="Plant North")
    give_production(factory)

    response = staff_client.get(admin_page_url("change", factory), secure=True)

    assert response.status_code == 200
    assert response.context["original"] == factory


def test_the_factory_change_list_loads_when_factories_have_production(staff_client):
    give_production(FactoryFactory(name="Plant North"))
    FactoryFactory(name="Plant South")

    response = staff_client.get(FACTORY_CHANGELIST, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Plant North", "Plant South"}


def test_the_admin_does_not_delete_a_factory_with_production(staff_client):
    factory = FactoryFactory(name="Plant North")
    give_production(factory)

    response = staff_client.post(admin_page_url("delete", factory), {"post": "yes"}, secure=True)

    assert response.status_code == 200
    assert response.context["protected"]
    assert Factory.objects.filter(pk=factory.pk).exists()


def test_the_delete_page_of_a_factory_with_production_says_so_without_listing_records(
    staff_client,
):
    factory = FactoryFactory(name="Busy Plant")
    ProductionRecordFactory.create_batch(30, factory=factory)

    response = staff_client.get(f"/admin/inventory/factory/{factory.pk}/delete/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "has production records and cannot be deleted" in page
    assert "Production record:" not in page


def test_the_admin_tells_staff_to_archive_with_the_admin_action_not_an_api_call(staff_client):
    factory = FactoryFactory(name="Busy Plant")
    give_production(factory)

    response = staff_client.get(admin_page_url("delete", factory), secure=True)

    page = response.content.decode()
    assert "Archive the selected factories" in page
    assert "PATCH" not in page
    assert "Busy Plant (Busy Plant)" not in page


def test_the_api_names_a_factory_once_when_refusing_to_delete_it(manager):
    factory = FactoryFactory(name="Factory 9")
    give_production(factory)

    detail = manager.delete(f"{FACTORIES}/{factory.pk}").json()["detail"]

    assert detail.startswith(f"Factory 9 (id {factory.pk}) has production records")
