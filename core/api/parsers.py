"""JSON parsed by orjson, which bounds nesting depth itself (no RecursionError)."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class ORJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read() if stream is not None else b"")
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error: {error}") from None


class RawJSONParser(BaseParser):
    """The body's bytes, unparsed: bulk views parse (and bound) it themselves.

    A parser is still needed: session authentication's CSRF check makes DRF parse the body.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""
