"""Throttles that keep answering when the cache behind them does not."""

import logging

from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class ResilientScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle that lets a request through when Redis cannot count it.

    A throttle is a guard, not the service: while the cache is down, logins and exports are
    served unthrottled (and a warning logged) rather than failing with a 500.
    """

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("Cache unavailable: %s not throttled", self.scope or "request")
            return True


class ExportRateThrottle(ResilientScopedRateThrottle):
    """Throttles exports (scope "export", EXPORT_THROTTLE_RATE) and nothing else of a view."""

    scope_attr = "export_throttle_scope"

    def allow_request(self, request, view) -> bool:
        if not getattr(view, "is_export", lambda _request: False)(request):
            return True
        return super().allow_request(request, view)
