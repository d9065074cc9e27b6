"""One JSON log line per request, and a request id on every line logged while serving it."""

import re
import time
import uuid

import structlog

logger = structlog.get_logger("sprocket_factory.request")

# A client's X-Request-ID is kept only when it is short and plain: it goes into every log line.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_begin(given: str) -> str:
    """The request's id (the client's when plain, else a new one), bound to every log line."""
    request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def request_logged(*, method: str, path: str, status: int, started: float, user) -> None:
    """The request's one line, then nothing more is bound to its id."""
    logger.info(
        "request",
        method=method,
        path=path,
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        user=user,
    )
    structlog.contextvars.clear_contextvars()


class RequestLogMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_begin(request.headers.get("X-Request-ID", ""))
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        request_logged(
            method=request.method,
            path=request.path,
            status=response.status_code,
            started=started,
            user=user.get_username() if user is not None and user.is_authenticated else None,
        )
        return response
