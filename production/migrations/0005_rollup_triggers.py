from django.db import migrations

from sprocket_factory.migration_operations import PostgreSQLOnlySQL

# Statement-level triggers with transition tables: one set-based upsert per statement, so
# COPY, bulk upserts, window deletes and single saves all keep the rollup in step.
ROLLUP_FUNCTION = """
CREATE FUNCTION production_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Rollup rows are locked and upserted in key order, so concurrent writers never deadlock.
    -- Removals are UPDATEs of existing rows: an INSERT of a negative delta would be checked
    -- against records >= 0 before ON CONFLICT could turn it into an update.
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM 1 FROM production_productionhourlyrollup r
        JOIN (SELECT DISTINCT factory_id, date_trunc('hour', time, 'UTC') AS hour FROM old_rows) d
            ON r.factory_id = d.factory_id AND r.hour = d.hour
        ORDER BY r.factory_id, r.hour FOR UPDATE OF r;
        UPDATE production_productionhourlyrollup r SET
            sprocket_production_actual = r.sprocket_production_actual - d.actual,
            sprocket_production_goal = r.sprocket_production_goal - d.goal,
            records = r.records - d.records
        FROM (
            SELECT factory_id, date_trunc('hour', time, 'UTC') AS hour,
                   sum(sprocket_production_actual) AS actual,
                   sum(sprocket_production_goal) AS goal, count(*) AS records
            FROM old_rows GROUP BY 1, 2
        ) d
        WHERE r.factory_id = d.factory_id AND r.hour = d.hour;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO production_productionhourlyrollup AS r
            (factory_id, hour, sprocket_production_actual, sprocket_production_goal, records)
        SELECT factory_id, date_trunc('hour', time, 'UTC'), sum(sprocket_production_actual),
               sum(sprocket_production_goal), count(*)
        FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (factory_id, hour) DO UPDATE SET
            sprocket_production_actual = r.sprocket_production_actual + excluded.sprocket_production_actual,
            sprocket_production_goal = r.sprocket_production_goal + excluded.sprocket_production_goal,
            records = r.records + excluded.records;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        DELETE FROM production_productionhourlyrollup r
        USING (SELECT DISTINCT factory_id, date_trunc('hour', time, 'UTC') AS hour FROM old_rows) d
        WHERE r.factory_id = d.factory_id AND r.hour = d.hour AND r.records = 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION production_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: a TRUNCATE of both tables in one statement (manage.py flush)
    -- may not truncate the rollup again from inside its trigger.
    DELETE FROM production_productionhourlyrollup;
    RETURN NULL;
END
$$;

CREATE TRIGGER production_rollup_insert AFTER INSERT ON production_productionrecord
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION production_rollup_apply();
CREATE TRIGGER production_rollup_update AFTER UPDATE ON production_productionrecord
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION production_rollup_apply();
CREATE TRIGGER production_rollup_delete AFTER DELETE ON production_productionrecord
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION production_rollup_apply();
CREATE TRIGGER production_rollup_truncate AFTER TRUNCATE ON production_productionrecord
    FOR EACH STATEMENT EXECUTE FUNCTION production_rollup_truncate();

INSERT INTO production_productionhourlyrollup
    (factory_id, hour, sprocket_production_actual, sprocket_production_goal, records)
SELECT factory_id, date_trunc('hour', time, 'UTC'), sum(sprocket_production_actual),
       sum(sprocket_production_goal), count(*)
FROM production_productionrecord GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER production_rollup_insert ON production_productionrecord;
DROP TRIGGER production_rollup_update ON production_productionrecord;
DROP TRIGGER production_rollup_delete ON production_productionrecord;
DROP TRIGGER production_rollup_truncate ON production_productionrecord;
DROP FUNCTION production_rollup_apply();
DROP FUNCTION production_rollup_truncate();
TRUNCATE production_productionhourlyrollup;
"""


class Migration(migrations.Migration):
    dependencies = [("production", "0004_hourly_rollup")]

    operations = [PostgreSQLOnlySQL(ROLLUP_FUNCTION, reverse_sql=DROP)]
