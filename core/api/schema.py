"""OpenAPI additions drf-spectacular cannot infer."""

import re

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme

from core.api.permissions import ModelActionPermission
from core.api.sse import EventStreamRenderer


class OwnTokenScheme(KnoxTokenScheme):
    """core.auth's token check is knox's, read more cheaply: the same scheme in the schema."""

    target_class = "core.auth.OwnTokenAuthentication"


LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 link to the next page, `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}


def describe_link_header(result: dict, generator, request, public) -> dict:
    """Every keyset-paged list (one with a `cursor` parameter) documents its `Link` header."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            parameters = operation.get("parameters", [])
            if any(p.get("name") == "cursor" for p in parameters):
                operation["responses"]["200"].setdefault("headers", {}).update(LINK_HEADER)
    return result


# Optional query parameters that read their raw value, so that an empty one is a 400 rather
# than "not given" as for every filter, time window and `format`.
EMPTY_VALUE_REFUSED = frozenset({"limit", "ordering", "on_conflict"})


def describe_empty_query_values(result: dict, generator, request, public) -> dict:
    """`?after=` is the same as no `after`: say so wherever it holds (`allowEmptyValue`)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if (
                    parameter["in"] == "query"
                    and not parameter.get("required")
                    and parameter["name"] not in EMPTY_VALUE_REFUSED
                ):
                    parameter["allowEmptyValue"] = True
    return result


ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": "Field → messages; nested by index for lists and bulk items "
        '(`{"3": {"time": ["..."]}}`), with `detail` when there is more to say.',
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]
        },
    },
}
ERROR = {"$ref": "#/components/schemas/Error"}
BAD_REQUEST = {"anyOf": [ERROR, {"$ref": "#/components/schemas/ValidationErrors"}]}
# An error as one Server-Sent Event: `event: error`, its JSON body as `data`.
ERROR_EVENT = {
    "type": "object",
    "properties": {"event": {"type": "string", "enum": ["error"]}, "data": {"type": "string"}},
}
ERROR_DESCRIPTIONS = {
    "400": 'Bad input: `{"detail": "..."}` or field → messages.',
    "401": "The token is missing, invalid or expired.",
    "403": "Not allowed.",
    "404": "Not found (an unknown `format` too).",
    "406": "The Accept header asks for a type this operation does not answer.",
    "409": "Conflicts with existing data.",
    "411": "The body has no Content-Length.",
    "413": "The body is over the limit (API_MAX_BODY_BYTES, or BULK_MAX_BYTES for bulk).",
    "414": "The request line is longer than 8 KiB (nginx and gunicorn refuse it).",
    "415": "The Content-Type is not one this operation reads.",
    "429": "Throttled: retry after the `Retry-After` seconds.",
    "503": "The database is unavailable or the query ran too long: retry shortly.",
}
BODY_METHODS = frozenset({"post", "put", "patch"})
# drf-spectacular's description of a response declared without one.
NO_DESCRIPTION = ("", "No response body")


def _path_shape(path: str) -> str:
    # The schema calls a path parameter `id` where the URL pattern says `pk`.
    return re.sub(r"\{[^}]*\}", "{}", path)


def _error_codes(view, method: str, operation: dict) -> set[str]:
    """The errors an operation can answer, from what its view is made of."""
    codes = {"404", "406", "503"}  # an unknown `format`, an Accept we cannot meet, the database
    if method in BODY_METHODS:
        codes |= {"400", "411", "413"}  # the body-limit middleware
    if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
        codes |= {"400", "414"}  # values that fail, or that make the request line too long
    if "requestBody" in operation and view.parser_classes:
        codes.add("415")
    if view.authentication_classes:
        codes.add("401")
    if ModelActionPermission in view.permission_classes:
        codes.add("403")
        if method != "get":
            codes.add("409")
    if view.throttle_classes:
        codes.add("429")
    return codes


def describe_error_responses(result: dict, generator, request, public) -> dict:
    """Every operation documents the errors it can answer, each a JSON body (DESIGN §4)."""
    views = {
        (_path_shape(path), method.lower()): callback.cls
        for path, _, method, callback in generator.endpoints
    }
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            view = views.get((_path_shape(path), method))
            if view is None:
                continue
            responses = operation["responses"]
            declared = {code for code in responses if code.isdigit() and code >= "400"}
            for code in sorted(_error_codes(view, method, operation) | declared):
                response = responses.setdefault(code, {})
                if "content" in response:
                    continue
                schema = BAD_REQUEST if code == "400" else ERROR
                response["content"] = {"application/json": {"schema": schema}}
                if EventStreamRenderer in view.renderer_classes:
                    # An EventSource (Accept: text/event-stream) is refused with one event.
                    response["content"][EventStreamRenderer.media_type] = {"schema": ERROR_EVENT}
                if response.get("description", "") in NO_DESCRIPTION:
                    response["description"] = ERROR_DESCRIPTIONS.get(code, "An error.")
    return result
