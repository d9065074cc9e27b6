from django.db import migrations

from core.ops.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        PostgreSQLOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            reverse_sql=migrations.RunSQL.noop,
        ),
        PostgreSQLOnlySQL(
            "CREATE INDEX inventory_factory_name_trgm ON inventory_factory "
            "USING gin (upper(name) gin_trgm_ops)",
            reverse_sql="DROP INDEX inventory_factory_name_trgm",
        ),
        PostgreSQLOnlySQL(
            "CREATE INDEX inventory_sprocket_name_trgm ON inventory_sprocket "
            "USING gin (upper(name) gin_trgm_ops)",
            reverse_sql="DROP INDEX inventory_sprocket_name_trgm",
        ),
    ]
