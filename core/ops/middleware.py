"""What an API request must be before anything reads it: credentials that can be read, and a
body bounded by its Content-Length, checked before a byte of it is read."""

import re

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from knox.settings import knox_settings

from core.api.exceptions import API_PREFIX

BULK_PATH = re.compile(r"/bulk/?$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBodyLimitMiddleware:
    """401 for an Authorization header that is not ASCII; 413 for a Content-Length over the
    limit (BULK_MAX_BYTES for bulk endpoints, API_MAX_BODY_BYTES elsewhere); 411 for a body
    sent without a length (chunked).

    A request with neither Content-Length nor Transfer-Encoding has an empty body (RFC 9112
    §6.3): it reaches the view, which answers it as it answers any empty body.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            refusal = _credentials_refusal(request)
            if refusal is None and request.method in BODY_METHODS:
                refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def _refusal(request) -> JsonResponse | None:
        is_bulk = BULK_PATH.search(request.path) is not None
        limit = settings.BULK_MAX_BYTES if is_bulk else settings.API_MAX_BODY_BYTES
        length = request.META.get("CONTENT_LENGTH")
        if not length:
            # Django reads no body without a length: a chunked one would be silently dropped.
            if "HTTP_TRANSFER_ENCODING" in request.META:
                return JsonResponse(
                    {"detail": "Send the body with a Content-Length header."}, status=411
                )
            return None
        if not (length.isascii() and length.isdigit()):
            return JsonResponse(
                {"detail": "The Content-Length header is not a number."}, status=400
            )
        if int(length) > limit:
            return JsonResponse(
                {"detail": f"The body is {length} bytes; the limit here is {limit} bytes."},
                status=413,
            )
        return None


def _credentials_refusal(request) -> JsonResponse | None:
    """Tokens are ASCII. A server hands header bytes over as latin-1 text, and the token
    authenticator reads them as UTF-8: any other byte would fail there, as a 500."""
    if request.META.get("HTTP_AUTHORIZATION", "").isascii():
        return None
    response = JsonResponse(
        {"detail": "Invalid token header. A token is ASCII letters and digits."}, status=401
    )
    response["WWW-Authenticate"] = knox_settings.AUTH_HEADER_PREFIX
    return response


class PrivateReadsMiddleware:
    """With ANONYMOUS_READ off, every API answer is per-user: no shared cache may keep it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not settings.ANONYMOUS_READ and request.path.startswith(API_PREFIX):
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ("Authorization", "Cookie", "Accept"))
        return response
