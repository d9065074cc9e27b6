"""Every error under the API is JSON in DRF's shapes, whatever DEBUG is."""

import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from psycopg.errors import QueryCanceled
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound, TooLarge
from core.ops.concurrency import is_deadlock

logger = logging.getLogger(__name__)

API_PREFIX = "/sprocketFactory/"


# The one place where the domain's errors meet HTTP.
DOMAIN_TO_HTTP: dict[type[DomainError], int] = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotAllowed: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}


def as_api_exception(error: DomainError) -> APIException:
    """A domain error as DRF's exception of its status: `{"detail": ...}` for a message, the
    mapping itself for messages by field or item."""
    exception = APIException(error.detail)
    exception.status_code = next(
        DOMAIN_TO_HTTP[kind] for kind in type(error).__mro__ if kind in DOMAIN_TO_HTTP
    )
    return exception


def _django_refusal(exc: Exception) -> APIException | None:
    """A request Django refuses to read (over one of its upload limits, or suspicious) as the
    4xx Django itself would answer; inside a DRF view it would otherwise be a 500."""
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        detail = (
            f"More than {limit} query parameters or form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
        )
        status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        detail = f"More than {limit} files (DATA_UPLOAD_MAX_NUMBER_FILES)."
        status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The form data is over {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
        status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exc, SuspiciousOperation | BadRequest):
        # Its message may repeat what the client sent (a Host header, say): not echoed.
        detail, status_code = "Bad request.", status.HTTP_400_BAD_REQUEST
    else:
        return None
    exception = APIException(detail)
    exception.status_code = status_code
    return exception


# PostgreSQL failed the request to break a deadlock with another writer: nothing is wrong
# with the database, and the same request sent again goes through.
DEADLOCK_DETAIL = (
    "The request crossed a concurrent write to the same records and was rolled back; "
    "nothing was changed. Retry it."
)


def error_status_and_detail(exc: Exception) -> tuple[int, object]:
    """The status and body an exception is answered with (the bulk audit records both)."""
    if is_deadlock(exc):
        return status.HTTP_409_CONFLICT, DEADLOCK_DETAIL
    if isinstance(exc, DomainError):
        exc = as_api_exception(exc)
    if isinstance(exc, APIException):
        return exc.status_code, exc.detail
    return status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error."


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's handler, plus the domain's errors, database conflicts as 409, an unavailable or
    timed-out database as 503, Django's refusals of a request as their 4xx, and anything
    unexpected as a JSON 500."""
    if isinstance(exc, DomainError):
        exc = as_api_exception(exc)
    exc = _django_refusal(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if is_deadlock(exc):
        logger.warning("Deadlock answered 409: %s", str(exc).splitlines()[0])
        return Response(
            {"detail": DEADLOCK_DETAIL},
            status=status.HTTP_409_CONFLICT,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, OperationalError | InterfaceError):
        timed_out = isinstance(exc.__cause__, QueryCanceled)
        logger.warning("Database error answered 503: %s", exc)
        return Response(
            {
                "detail": "The query ran longer than DATABASE_STATEMENT_TIMEOUT; ask for less."
                if timed_out
                else "The database is unavailable; try again shortly."
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": "The request conflicts with existing data (a unique or check rule)."},
            status=status.HTTP_409_CONFLICT,
        )
    logger.error("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
    return Response(
        {"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
    )


def _is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def json_not_found(request, exception=None):
    if _is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def json_server_error(request):
    if _is_api_request(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)


def json_bad_request(request, exception=None):
    if _is_api_request(request):
        refusal = _django_refusal(exception)
        if refusal is None:  # a malformed multipart body, say
            return JsonResponse({"detail": "Bad request."}, status=400)
        return JsonResponse({"detail": refusal.detail}, status=refusal.status_code)
    return defaults.bad_request(request, exception)


def json_permission_denied(request, exception=None):
    if _is_api_request(request):
        return JsonResponse({"detail": "Permission denied."}, status=403)
    return defaults.permission_denied(request, exception)


class ApiErrorMiddleware:
    """Answers an exception raised outside DRF's views as JSON under the API, even with DEBUG on."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not _is_api_request(request):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
