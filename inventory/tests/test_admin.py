import pytest
from django.urls import reverse

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory, SprocketFactory

SPROCKET_CHANGELIST = reverse("admin:inventory_sprocket_changelist")
FACTORY_CHANGELIST = reverse("admin:inventory_factory_changelist")


# Requests are made with secure=True because with DATABASE_URL set (and DEBUG off) the
# admin is served as in production, where SECURE_SSL_REDIRECT sends plain HTTP to HTTPS.


def listed(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def admin_page_url(model: str, page: str, obj) -> str:
    if page in {"change", "delete"}:
        return reverse(f"admin:inventory_{model}_{page}", args=[obj.pk])
    return reverse(f"admin:inventory_{model}_{page}")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Sprocket


@pytest.mark.parametrize("page", ["changelist", "add", "change"])
def test_every_sprocket_admin_page_loads(staff_client, page):
    sprocket = SprocketFactory(name="Chain wheel 40")

    response = staff_client.get(admin_page_url("sprocket", page, sprocket), secure=True)

    assert response.status_code == 200


def test_the_change_page_of_a_sprocket_without_a_name_loads(staff_client):
    sprocket = SprocketFactory(name=None, teeth=12)

    response = staff_client.get(admin_page_url("sprocket", "change", sprocket), secure=True)

    assert response.status_code == 200
    assert response.context["original"] == sprocket
    assert f"Sprocket type {sprocket.pk} (12 teeth)" in response.content.decode()


def test_the_sprocket_change_list_shows_sprockets_without_a_name(staff_client):
    SprocketFactory(name=None)
    SprocketFactory(name=None)

    response = staff_client.get(SPROCKET_CHANGELIST, secure=True)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 2


def test_the_sprocket_search_narrows_the_change_list_by_name(staff_client):
    SprocketFactory(name="Chain wheel 40")
    SprocketFactory(name="Chain wheel 60")
    SprocketFactory(name="Idler 12")

    response = staff_client.get(SPROCKET_CHANGELIST, {"q": "chain"}, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Chain wheel 40", "Chain wheel 60"}


def test_the_teeth_filter_narrows_the_sprocket_change_list(staff_client):
    SprocketFactory(name="Small", teeth=12)
    SprocketFactory(name="Also small", teeth=12)
    SprocketFactory(name="Large", teeth=60)

    response = staff_client.get(SPROCKET_CHANGELIST, {"teeth": "12"}, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Small", "Also small"}


# Factory


@pytest.mark.parametrize("page", ["changelist", "add", "change"])
def test_every_factory_admin_page_loads(staff_client, page):
    factory = FactoryFactory(name="Plant North")

    response = staff_client.get(admin_page_url("factory", page, factory), secure=True)

    assert response.status_code == 200


def test_the_factory_search_narrows_the_change_list_by_name(staff_client):
    FactoryFactory(name="Plant North")
    FactoryFactory(name="Plant South")
    FactoryFactory(name="Works East")

    response = staff_client.get(FACTORY_CHANGELIST, {"q": "plant"}, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Plant North", "Plant South"}


def test_the_active_filter_narrows_the_factory_change_list(staff_client):
    FactoryFactory(name="Plant North", is_active=True)
    FactoryFactory(name="Plant South", is_active=False)

    response = staff_client.get(FACTORY_CHANGELIST, {"is_active__exact": "0"}, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Plant South"}


def test_the_timezone_filter_narrows_the_factory_change_list(staff_client):
    FactoryFactory(name="Plant North", timezone="Europe/Berlin")
    FactoryFactory(name="Plant South", timezone="America/Sao_Paulo")

    response = staff_client.get(FACTORY_CHANGELIST, {"timezone": "Europe/Berlin"}, secure=True)

    assert response.status_code == 200
    assert listed(response) == {"Plant North"}


def test_the_archive_action_archives_only_the_selected_factories(staff_client):
    north = FactoryFactory(name="Plant North")
    south = FactoryFactory(name="Plant South")
    east = FactoryFactory(name="Works East")

    response = staff_client.post(
        FACTORY_CHANGELIST,
        {"action": "archive", "_selected_action": [north.pk, south.pk]},
        secure=True,
    )

    assert response.status_code == 302
    assert set(Factory.objects.filter(is_active=False)) == {north, south}
    east.refresh_from_db()
    assert east.is_active


def test_the_archive_action_reports_how_many_factories_it_changed(staff_client):
    north = FactoryFactory(name="Plant North")
    south = FactoryFactory(name="Plant South")
    already_archived = FactoryFactory(name="Works East", is_active=False)

    response = staff_client.post(
        FACTORY_CHANGELIST,
        {"action": "archive", "_selected_action": [north.pk, south.pk, already_archived.pk]},
        follow=True,
        secure=True,
    )

    assert messages_of(response) == ["Archived 2 factories."]


def test_the_restore_action_restores_only_the_selected_factories(staff_client):
    north = FactoryFactory(name="Plant North", is_active=False)
    south = FactoryFactory(name="Plant South", is_active=False)

    response = staff_client.post(
        FACTORY_CHANGELIST, {"action": "restore", "_selected_action": [north.pk]}, secure=True
    )

    assert response.status_code == 302
    north.refresh_from_db()
    south.refresh_from_db()
    assert north.is_active
    assert not south.is_active


def test_the_restore_action_reports_how_many_factories_it_changed(staff_client):
    archived = [FactoryFactory(is_active=False) for _ in range(3)]

    response = staff_client.post(
        FACTORY_CHANGELIST,
        {"action": "restore", "_selected_action": [f.pk for f in archived]},
        follow=True,
        secure=True,
    )

    assert messages_of(response) == ["Restored 3 factories."]
    assert Factory.objects.filter(is_active=True).count() == 3
