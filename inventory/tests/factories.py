import factory

from inventory.models import Factory, Sprocket


class SprocketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sprocket

    name = factory.Sequence(lambda n: f"Sprocket type {n}")
    teeth = 5
    pitch_diameter = 5
    outside_diameter = 6
    pitch = 1


class FactoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Factory

    name = factory.Sequence(lambda n: f"Plant {n}")
    timezone = "UTC"
    is_active = True
