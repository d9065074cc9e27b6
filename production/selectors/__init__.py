"""Every read of production that is more than a filter: record rows, chart documents,
summaries and CSV streams."""

from production.selectors.buckets import BUCKETS
from production.selectors.charts import (
    production_chart_document,
    production_factory_chart_document,
)
from production.selectors.export import production_csv_stream
from production.selectors.records import (
    RECORD_FIELDS,
    production_record_rows,
    production_records_of_factory,
)
from production.selectors.summary import production_summary

__all__ = [
    "BUCKETS",
    "RECORD_FIELDS",
    "production_chart_document",
    "production_csv_stream",
    "production_factory_chart_document",
    "production_record_rows",
    "production_records_of_factory",
    "production_summary",
]
