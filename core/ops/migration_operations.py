"""Migration operations shared by the apps."""

from django.db import migrations


class PostgreSQLOnlySQL(migrations.RunSQL):
    """Raw SQL for PostgreSQL features (BRIN, trigram indexes) that the SQLite default lacks."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
