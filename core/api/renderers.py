"""JSON rendered by orjson: times in UTC with Z, measures as numbers."""

import csv
import io
from datetime import datetime

import orjson
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer

from core.json_bytes import ORJSON_OPTIONS, dumps, json_default
from core.times import time_format


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        # The browsable API asks for indented JSON (orjson indents by two spaces only).
        if (renderer_context or {}).get("indent") or "indent=" in (accepted_media_type or ""):
            if isinstance(data, orjson.Fragment):  # JSON the database wrote, indented here
                data = orjson.loads(data.contents)
            return orjson.dumps(
                data, default=json_default, option=ORJSON_OPTIONS | orjson.OPT_INDENT_2
            )
        return dumps(data)


class ResourceBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API, without a form for a method the view declares too destructive for
    one click (`browsable_api_hidden_forms`, e.g. a window delete whose window is required)."""

    def show_form_for_method(self, view, method, request, obj) -> bool:
        if method in getattr(view, "browsable_api_hidden_forms", ()):
            return False
        return super().show_form_for_method(view, method, request, obj)


class CSVRenderer(BaseRenderer):
    """`?format=csv`: lists are streamed by their views; this renders what is not streamed."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        rows = [data] if isinstance(data, dict) else list(data or [])
        if not rows:
            return b""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        return text.getvalue().encode()


def _csv_value(value: object) -> object:
    if isinstance(value, datetime):
        return time_format(value)
    return value
