"""Throttles that keep answering when the cache behind them does not."""

import logging
from functools import wraps

from django.http import HttpResponse
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)


class ResilientThrottleMixin:
    """Lets a request through when Redis cannot count it.

    A throttle is a guard, not the service: while the cache is down, logins and exports are
    served unthrottled (and a warning logged) rather than failing with a 500.
    """

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("Cache unavailable: %s not throttled", self.scope or "request")
            return True


class ResilientScopedRateThrottle(ResilientThrottleMixin, ScopedRateThrottle):
    pass


class ExportRateThrottle(ResilientScopedRateThrottle):
    """Throttles exports (scope "export", EXPORT_THROTTLE_RATE) and nothing else of a view."""

    scope_attr = "export_throttle_scope"

    def allow_request(self, request, view) -> bool:
        if not getattr(view, "is_export", lambda _request: False)(request):
            return True
        return super().allow_request(request, view)

    def refund(self, request, view) -> None:
        """Take back this request's count: an export refused after all (too many running) is
        not charged, so a client that retries after `Retry-After` keeps its rate."""
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            key = self.get_cache_key(request, view)
            history = self.cache.get(key, []) if key else []
            if history:
                history.pop(0)  # the newest: this request's
                self.cache.set(key, history, self.duration)
        except Exception:
            logger.warning("Cache unavailable: an export's count not taken back")


class LoginFormThrottle(ResilientThrottleMixin, SimpleRateThrottle):
    """The login forms (admin, browsable API) at LOGIN_THROTTLE_RATE per client address."""

    scope = "login"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": "login-form", "ident": self.get_ident(request)}


def login_throttled(view):
    """Refuse a login form's POSTs beyond LOGIN_THROTTLE_RATE with a 429."""

    @wraps(view)
    def throttled(request, *args, **kwargs):
        if request.method == "POST" and not LoginFormThrottle().allow_request(request, None):
            return HttpResponse(
                "Too many login attempts; wait a minute and try again.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return throttled
