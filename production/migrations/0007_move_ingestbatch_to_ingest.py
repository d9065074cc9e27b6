"""IngestBatch moves to the ingest app: every audit row is copied, ids kept, then the old
table is dropped. Reversible: going back copies the rows the other way."""

from django.core.management.color import no_style
from django.db import migrations

COLUMNS = (
    "id",
    "user_id",
    "created_at",
    "resource",
    "shape",
    "on_conflict",
    "idempotency_key",
    "request_hash",
    "status_code",
    "rows",
    "created",
    "updated",
    "skipped",
    "response",
)


def _copy(apps, schema_editor, source: str, target: str) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    old_model = apps.get_model(*source.split("."))
    new_model = apps.get_model(*target.split("."))
    columns = ", ".join(quote(column) for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(new_model._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM {quote(old_model._meta.db_table)} ORDER BY id"
        )
        # The copied ids were given explicitly: the next new id must come after them.
        for statement in connection.ops.sequence_reset_sql(no_style(), [new_model]):
            cursor.execute(statement)


def forwards(apps, schema_editor) -> None:
    _copy(apps, schema_editor, "production.IngestBatch", "ingest.IngestBatch")


def backwards(apps, schema_editor) -> None:
    _copy(apps, schema_editor, "ingest.IngestBatch", "production.IngestBatch")


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0001_initial"),
        ("production", "0006_time_whole_second"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="IngestBatch"),
    ]
