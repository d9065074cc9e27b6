"""Bounds on API request bodies, enforced before a byte of the body is read."""

import re

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from core.api.exceptions import API_PREFIX

BULK_PATH = re.compile(r"/bulk/?$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBodyLimitMiddleware:
    """413 for a Content-Length over the limit (BULK_MAX_BYTES for bulk endpoints,
    API_MAX_BODY_BYTES elsewhere), 411 for a bulk or chunked body without a length."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method in BODY_METHODS and request.path.startswith(API_PREFIX):
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
            if is_bulk or "HTTP_TRANSFER_ENCODING" in request.META:
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
