from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory

pytestmark = pytest.mark.django_db

VALID_SPROCKET = {
    "teeth": 5,
    "pitch_diameter": Decimal("5"),
    "outside_diameter": Decimal("6"),
    "pitch": Decimal("1"),
}


def create_sprocket(**overrides) -> Sprocket:
    """Insert straight into the table: no full_clean, so only the database can refuse."""
    return Sprocket.objects.create(**{**VALID_SPROCKET, **overrides})


def index_definition(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


# Sprocket


def test_a_valid_sprocket_saves():
    sprocket = create_sprocket(name="Chain wheel 40")

    stored = Sprocket.objects.get(pk=sprocket.pk)
    assert stored.name == "Chain wheel 40"
    assert (stored.teeth, stored.pitch_diameter, stored.outside_diameter, stored.pitch) == (
        5,
        Decimal("5"),
        Decimal("6"),
        Decimal("1"),
    )


@pytest.mark.parametrize("teeth", [0, -3])
def test_the_database_rejects_a_sprocket_with_fewer_than_one_tooth(teeth):
    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_teeth_gte_1"),
        transaction.atomic(),
    ):
        create_sprocket(teeth=teeth)

    assert Sprocket.objects.count() == 0


@pytest.mark.parametrize("pitch_diameter", [Decimal("0"), Decimal("-1.5")])
def test_the_database_rejects_a_sprocket_with_a_pitch_diameter_not_above_zero(pitch_diameter):
    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_pitch_diameter_gt_0"),
        transaction.atomic(),
    ):
        create_sprocket(pitch_diameter=pitch_diameter)

    assert Sprocket.objects.count() == 0


@pytest.mark.parametrize("outside_diameter", [Decimal("0"), Decimal("-6")])
def test_the_database_rejects_a_sprocket_with_an_outside_diameter_not_above_zero(
    outside_diameter,
):
    # A positive pitch diameter makes such a row break the outside >= pitch rule as well,
    # so either constraint may be the one the database names.
    with (
        pytest.raises(
            IntegrityError,
            match=r"inventory_sprocket_outside_diameter_gt_0|inventory_sprocket_outside_gte_pitch",
        ),
        transaction.atomic(),
    ):
        create_sprocket(outside_diameter=outside_diameter)

    assert Sprocket.objects.count() == 0


@pytest.mark.parametrize("pitch", [Decimal("0"), Decimal("-1")])
def test_the_database_rejects_a_sprocket_with_a_pitch_not_above_zero(pitch):
    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_pitch_gt_0"),
        transaction.atomic(),
    ):
        create_sprocket(pitch=pitch)

    assert Sprocket.objects.count() == 0


def test_the_database_rejects_an_outside_diameter_smaller_than_the_pitch_diameter():
    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_outside_gte_pitch_diameter"),
        transaction.atomic(),
    ):
        create_sprocket(pitch_diameter=Decimal("6"), outside_diameter=Decimal("5.9999"))

    assert Sprocket.objects.count() == 0


def test_an_outside_diameter_equal_to_the_pitch_diameter_is_allowed():
    sprocket = create_sprocket(pitch_diameter=Decimal("6"), outside_diameter=Decimal("6"))

    assert Sprocket.objects.filter(pk=sprocket.pk).exists()


def test_an_update_cannot_set_a_sprocket_to_zero_teeth():
    sprocket = SprocketFactory()

    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_teeth_gte_1"),
        transaction.atomic(),
    ):
        Sprocket.objects.filter(pk=sprocket.pk).update(teeth=0)

    sprocket.refresh_from_db()
    assert sprocket.teeth == 5


def test_the_database_rejects_an_empty_sprocket_name():
    with (
        pytest.raises(IntegrityError, match="inventory_sprocket_name_not_empty"),
        transaction.atomic(),
    ):
        create_sprocket(name="")

    assert Sprocket.objects.count() == 0


def test_the_database_rejects_a_duplicate_sprocket_name():
    create_sprocket(name="Chain wheel 40")

    with pytest.raises(IntegrityError), transaction.atomic():
        create_sprocket(name="Chain wheel 40", teeth=40)

    assert Sprocket.objects.count() == 1


def test_any_number_of_sprockets_may_have_no_name():
    create_sprocket(name=None)
    create_sprocket(name=None, teeth=40)

    assert Sprocket.objects.filter(name__isnull=True).count() == 2


# Factory


def test_a_valid_factory_saves():
    factory = Factory.objects.create(name="Plant North", timezone="Europe/Berlin")

    stored = Factory.objects.get(pk=factory.pk)
    assert (stored.name, stored.timezone, stored.is_active) == (
        "Plant North",
        "Europe/Berlin",
        True,
    )


def test_the_database_rejects_a_duplicate_factory_name():
    Factory.objects.create(name="Plant North")

    with pytest.raises(IntegrityError), transaction.atomic():
        Factory.objects.create(name="Plant North", timezone="Europe/Berlin")

    assert Factory.objects.count() == 1


def test_the_database_rejects_an_empty_factory_name():
    with (
        pytest.raises(IntegrityError, match="inventory_factory_name_not_empty"),
        transaction.atomic(),
    ):
        Factory.objects.create(name="")

    assert Factory.objects.count() == 0


def test_the_database_rejects_an_empty_factory_timezone():
    with (
        pytest.raises(IntegrityError, match="inventory_factory_timezone_not_empty"),
        transaction.atomic(),
    ):
        Factory.objects.create(name="Plant North", timezone="")

    assert Factory.objects.count() == 0


def test_an_update_cannot_empty_a_factory_name():
    factory = FactoryFactory(name="Plant North")

    with (
        pytest.raises(IntegrityError, match="inventory_factory_name_not_empty"),
        transaction.atomic(),
    ):
        Factory.objects.filter(pk=factory.pk).update(name="")

    factory.refresh_from_db()
    assert factory.name == "Plant North"


def test_full_clean_rejects_a_timezone_that_is_not_an_iana_name():
    factory = Factory(name="Plant North", timezone="Mars/Olympus")

    with pytest.raises(ValidationError) as excinfo:
        factory.full_clean()

    assert list(excinfo.value.message_dict) == ["timezone"]
    assert "Mars/Olympus" in excinfo.value.message_dict["timezone"][0]


def test_full_clean_accepts_an_iana_timezone():
    factory = Factory(name="Plant North", timezone="America/Sao_Paulo")

    factory.full_clean()


# PostgreSQL indexes


def test_the_factory_name_has_a_trigram_index(on_postgresql):
    definition = index_definition("inventory_factory_name_trgm")

    assert definition is not None
    assert definition.endswith(
        "ON public.inventory_factory USING gin (upper((name)::text) gin_trgm_ops)"
    )


def test_the_sprocket_name_has_a_trigram_index(on_postgresql):
    definition = index_definition("inventory_sprocket_name_trgm")

    assert definition is not None
    assert definition.endswith(
        "ON public.inventory_sprocket USING gin (upper((name)::text) gin_trgm_ops)"
    )
