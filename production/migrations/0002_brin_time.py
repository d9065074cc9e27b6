from django.db import migrations

from core.ops.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    dependencies = [("production", "0001_initial")]

    operations = [
        PostgreSQLOnlySQL(
            "CREATE INDEX production_record_time_brin ON production_productionrecord "
            "USING brin (time)",
            reverse_sql="DROP INDEX production_record_time_brin",
        ),
    ]
