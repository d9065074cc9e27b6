"""OpenAPI additions drf-spectacular cannot infer."""

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
