from django.db import migrations

from core.ops.migration_operations import PostgreSQLOnlySQL

# Statement-level triggers with transition tables: one set-based change per rollup and
# statement, so COPY, bulk upserts, window deletes and single saves all keep the rollups in
# step. Each rollup names its period column after its date_trunc unit (hour, day).
ROLLUP_FUNCTION = """
CREATE FUNCTION production_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    rollup record;
BEGIN
    FOR rollup IN
        SELECT * FROM (VALUES ('production_productionhourlyrollup', 'hour'),
                              ('production_productiondailyrollup', 'day')) AS r(tbl, unit)
    LOOP
        -- Rows are locked and upserted in key order, so concurrent writers never deadlock.
        -- Removals are UPDATEs: an INSERT of a negative delta would be checked against
        -- records >= 0 before ON CONFLICT could turn it into an update.
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            EXECUTE format($sql$
                SELECT 1 FROM %1$I r
                JOIN (SELECT DISTINCT factory_id, date_trunc(%2$L, time, 'UTC') AS period
                      FROM old_rows) d
                    ON r.factory_id = d.factory_id AND r.%2$I = d.period
                ORDER BY r.factory_id, r.%2$I FOR UPDATE OF r
            $sql$, rollup.tbl, rollup.unit);
            EXECUTE format($sql$
                UPDATE %1$I r SET
                    sprocket_production_actual = r.sprocket_production_actual - d.actual,
                    sprocket_production_goal = r.sprocket_production_goal - d.goal,
                    records = r.records - d.records
                FROM (
                    SELECT factory_id, date_trunc(%2$L, time, 'UTC') AS period,
                           sum(sprocket_production_actual) AS actual,
                           sum(sprocket_production_goal) AS goal, count(*) AS records
                    FROM old_rows GROUP BY 1, 2
                ) d
                WHERE r.factory_id = d.factory_id AND r.%2$I = d.period
            $sql$, rollup.tbl, rollup.unit);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            EXECUTE format($sql$
                INSERT INTO %1$I AS r (factory_id, %2$I, sprocket_production_actual,
                                       sprocket_production_goal, records)
                SELECT factory_id, date_trunc(%2$L, time, 'UTC'), sum(sprocket_production_actual),
                       sum(sprocket_production_goal), count(*)
                FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT (factory_id, %2$I) DO UPDATE SET
                    sprocket_production_actual =
                        r.sprocket_production_actual + excluded.sprocket_production_actual,
                    sprocket_production_goal =
                        r.sprocket_production_goal + excluded.sprocket_production_goal,
                    records = r.records + excluded.records
            $sql$, rollup.tbl, rollup.unit);
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            EXECUTE format($sql$
                DELETE FROM %1$I r
                USING (SELECT DISTINCT factory_id, date_trunc(%2$L, time, 'UTC') AS period
                       FROM old_rows) d
                WHERE r.factory_id = d.factory_id AND r.%2$I = d.period AND r.records = 0
            $sql$, rollup.tbl, rollup.unit);
        END IF;
    END LOOP;
    RETURN NULL;
END
$function$;

CREATE FUNCTION production_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    -- DELETE, not TRUNCATE: a TRUNCATE of the records and a rollup in one statement
    -- (manage.py flush) may not truncate that rollup again from inside this trigger.
    DELETE FROM production_productionhourlyrollup;
    DELETE FROM production_productiondailyrollup;
    RETURN NULL;
END
$function$;

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
INSERT INTO production_productiondailyrollup
    (factory_id, day, sprocket_production_actual, sprocket_production_goal, records)
SELECT factory_id, date_trunc('day', hour, 'UTC'), sum(sprocket_production_actual),
       sum(sprocket_production_goal), sum(records)
FROM production_productionhourlyrollup GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER production_rollup_insert ON production_productionrecord;
DROP TRIGGER production_rollup_update ON production_productionrecord;
DROP TRIGGER production_rollup_delete ON production_productionrecord;
DROP TRIGGER production_rollup_truncate ON production_productionrecord;
DROP FUNCTION production_rollup_apply();
DROP FUNCTION production_rollup_truncate();
DELETE FROM production_productionhourlyrollup;
DELETE FROM production_productiondailyrollup;
"""


class Migration(migrations.Migration):
    dependencies = [("production", "0004_rollups")]

    operations = [PostgreSQLOnlySQL(ROLLUP_FUNCTION, reverse_sql=DROP)]
