from django.db import migrations

from core.ops.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    dependencies = [("production", "0005_rollup_triggers")]

    # A database rule on PostgreSQL only: SQLite has no date_trunc to check it with.
    operations = [
        PostgreSQLOnlySQL(
            "UPDATE production_productionrecord SET time = date_trunc('second', time) "
            "WHERE time <> date_trunc('second', time);"
            "ALTER TABLE production_productionrecord ADD CONSTRAINT "
            "production_record_time_whole_second CHECK (time = date_trunc('second', time))",
            reverse_sql="ALTER TABLE production_productionrecord DROP CONSTRAINT "
            "production_record_time_whole_second",
        )
    ]
