"""Every read of production that is more than a filter: record rows, chart documents,
summaries and CSV streams."""

from production.selectors.buckets import AUTO, BUCKETS, DEFAULT_BUCKET, FIXED_BUCKETS
from production.selectors.charts import (
    production_chart_document,
    production_factory_chart_document,
)
from production.selectors.export import production_csv_stream
from production.selectors.records import (
    RECORD_FIELDS,
    production_factory_found,
    production_record_rows,
    production_records_of_factory,
)
from production.selectors.resolution import AUTO_MAX_POINTS, summary_bucket_resolve
from production.selectors.summary import (
    Summary,
    production_summary,
    production_summary_with_bucket,
)

__all__ = [
    "AUTO",
    "AUTO_MAX_POINTS",
    "BUCKETS",
    "DEFAULT_BUCKET",
    "FIXED_BUCKETS",
    "RECORD_FIELDS",
    "Summary",
    "production_chart_document",
    "production_csv_stream",
    "production_factory_chart_document",
    "production_factory_found",
    "production_record_rows",
    "production_records_of_factory",
    "production_summary",
    "production_summary_with_bucket",
    "summary_bucket_resolve",
]
