import json
from datetime import UTC, datetime

from django.conf import settings

from inventory.models import Factory, Sprocket
from production.models import ProductionRecord

SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"


def test_loaded_sprockets_equal_the_original_file_number_for_number(original_data):
    source = json.loads((SOURCE_DIR / "seed_sprocket_types.json").read_text())["sprockets"]

    loaded = [
        {
            "teeth": s.teeth,
            "pitch_diameter": s.pitch_diameter,
            "outside_diameter": s.outside_diameter,
            "pitch": s.pitch,
        }
        for s in Sprocket.objects.order_by("id")
    ]

    assert loaded == source
    assert list(Sprocket.objects.values_list("name", flat=True)) == [None, None, None]


def test_loaded_production_equals_the_original_file_number_for_number(original_data):
    source = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())["factories"]

    assert list(Factory.objects.order_by("id").values_list("name", flat=True)) == [
        "Factory 1",
        "Factory 2",
        "Factory 3",
    ]
    assert ProductionRecord.objects.count() == 60
    for position, entry in enumerate(source, start=1):
        records = ProductionRecord.objects.filter(factory__name=f"Factory {position}").order_by(
            "time"
        )
        assert entry["factory"]["chart_data"] == {
            "sprocket_production_actual": [r.sprocket_production_actual for r in records],
            "sprocket_production_goal": [r.sprocket_production_goal for r in records],
            "time": [int(r.time.timestamp()) for r in records],
        }
        assert all(r.time.tzinfo == UTC for r in records)


def test_the_first_original_minute_is_stored_in_utc(original_data):
    first = ProductionRecord.objects.order_by("factory_id", "time").first()

    assert first.time == datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
