"""The admin's production change list on a million records: its queries, their plans, its time.

    .venv/bin/python benchmarks/bench_admin.py [--records 1000000]

Target (issue "Foundation"): no COUNT(*) over the table and no full-table scan on a page view.
Compared with the same page built by a default ModelAdmin (full count, no index-friendly order).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_summary import exists
from benchmarks.common import database_url, fresh_database, manage, psql, record, service_env

DATABASE = "sprocket_bench_admin"
PAGES = {
    "first page": "",
    "one factory": "?factory=3",
    "a week": "?time__gte=2024-02-01&time__lt=2024-02-08",
    "a late page": "?p=90",
    "search by factory name": "?q=Factory+7",
}


def measure() -> dict:
    import django

    os.environ.update(service_env(DATABASE, DEBUG="true", ALLOWED_HOSTS="testserver"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "sprocket_factory.settings"
    django.setup()
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from production.models import ProductionRecord

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    url = "/admin/production/productionrecord/"
    results = {}
    for name, query in PAGES.items():
        client.get(url + query)
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url + query)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        table_queries = [q["sql"] for q in queries if "production_productionrecord" in q["sql"]]
        plans = []
        with connection.cursor() as cursor:
            for sql in table_queries:
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        results[name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "queries": len(queries),
            "unbounded_counts": sum(
                "COUNT(*)" in sql.upper() and "LIMIT" not in sql.upper() for sql in table_queries
            ),
            "seq_scans_of_records": sum(
                "Seq Scan on production_productionrecord" in plan for plan in plans
            ),
        }
    # The same first page with Django's defaults: a full COUNT(*) and the model's ordering
    # through the factory relation.
    registered = admin.site._registry[ProductionRecord]
    registered.show_full_result_count = True
    registered.paginator = __import__("django.core.paginator", fromlist=["Paginator"]).Paginator
    with CaptureQueriesContext(connection):
        started = time.perf_counter()
        client.get(url)
        results["first page, default paginator (baseline)"] = {
            "median_ms": round((time.perf_counter() - started) * 1000, 1)
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    options = parser.parse_args()
    if options.rebuild or not exists(DATABASE):
        fresh_database(DATABASE)
        days = max(1, options.records // (10 * 1440))
        manage(DATABASE, "generate_production", "--factories", "10", "--days", str(days))
        psql(DATABASE, "VACUUM ANALYZE")
    records = int(psql(DATABASE, "SELECT count(*) FROM production_productionrecord"))
    os.environ["DATABASE_URL"] = database_url(DATABASE)
    record("admin_production_changelist", {"records": records, "pages": measure()})


if __name__ == "__main__":
    main()
