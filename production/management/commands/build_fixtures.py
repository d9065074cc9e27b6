"""Rebuild fixtures/*.json from the original challenge files in fixtures/source/."""

import json
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
SOURCE_DIR = FIXTURES_DIR / "source"


def _iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_fixtures() -> dict[str, list[dict]]:
    sprocket_source = json.loads((SOURCE_DIR / "seed_sprocket_types.json").read_text())
    factory_source = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    # The originals carry no creation times; the first recorded minute stands in for them.
    first_time = min(
        t for entry in factory_source["factories"] for t in entry["factory"]["chart_data"]["time"]
    )
    stamp = {"created_at": _iso(first_time), "updated_at": _iso(first_time)}

    sprockets = [
        {"model": "inventory.sprocket", "pk": position, "fields": {"name": None, **item, **stamp}}
        for position, item in enumerate(sprocket_source["sprockets"], start=1)
    ]
    factories, records = [], []
    for position, entry in enumerate(factory_source["factories"], start=1):
        factories.append(
            {
                "model": "inventory.factory",
                "pk": position,
                "fields": {
                    "name": f"Factory {position}",
                    "timezone": "UTC",
                    "is_active": True,
                    **stamp,
                },
            }
        )
        chart = entry["factory"]["chart_data"]
        for actual, goal, unix_time in zip(
            chart["sprocket_production_actual"],
            chart["sprocket_production_goal"],
            chart["time"],
            strict=True,
        ):
            records.append(
                {
                    "model": "production.productionrecord",
                    "pk": len(records) + 1,
                    "fields": {
                        "factory": position,
                        "time": _iso(unix_time),
                        "sprocket_production_actual": actual,
                        "sprocket_production_goal": goal,
                    },
                }
            )
    return {"sprockets": sprockets, "factories": factories, "production": records}


class Command(BaseCommand):
    help = "Rebuild fixtures/{sprockets,factories,production}.json from fixtures/source/."

    def handle(self, *args, **options) -> None:
        for name, objects in build_fixtures().items():
            path = FIXTURES_DIR / f"{name}.json"
            path.write_text(json.dumps(objects, indent=2) + "\n")
            self.stdout.write(f"{path.relative_to(settings.BASE_DIR)}: {len(objects)} objects")
