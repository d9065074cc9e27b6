"""What the hostile-input tests share: the API's base path, other scripts' digits, and the
check that an error is JSON."""

import json

API = "/sprocketFactory/v1"
# "0123456789" in other scripts' digits, which int() and `\d` also take.
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "".join(map(chr, range(0x0660, 0x066A))))


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)
