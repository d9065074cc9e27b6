"""gunicorn's threaded worker, answering the requests it refuses itself in JSON.

gunicorn answers a request it cannot parse (a request line over `limit_request_line`, too
many headers, a malformed line) before the application sees it, with an HTML page. Clients
of the API expect JSON from every error (DESIGN §4), with nginx in front or without it.
"""

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

DETAILS = {
    400: "The request could not be parsed.",
    403: "The request is forbidden.",
    414: "The request line is too long.",
    417: "The expectation in the Expect header cannot be met.",
    431: "There are too many request headers, or one is too large.",
    500: "The server failed to handle the request.",
    501: "The Transfer-Encoding is not supported.",
}


class _ErrorPage:
    """Stands in for the client's socket while gunicorn writes its HTML error page: keeps the
    bytes instead of sending them; every other use goes to the real socket."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0  # the page is written as if non-blocking: nothing to switch back

    def sendall(self, data: bytes) -> None:
        self.written += data

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


def json_error_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 answer with this status and a `{"detail": ...}` body."""
    body = json.dumps({"detail": DETAILS.get(status, f"{reason}.")}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class JSONErrorThreadWorker(ThreadWorker):
    """gthread, with gunicorn's own error answers in JSON. gunicorn still decides the status
    and logs the error; only the page it writes is replaced."""

    def handle_error(self, req, client, addr, exc) -> None:
        page = _ErrorPage(client)
        super().handle_error(req, page, addr, exc)
        if not page.written:
            return
        # "HTTP/1.1 414 URI Too Long"
        _, status, reason = page.written.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        try:
            util.write_nonblock(client, json_error_response(int(status), reason))
        except Exception:
            self.log.debug("Failed to send error message.")
