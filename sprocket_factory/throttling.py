from rest_framework.throttling import ScopedRateThrottle


class ExportRateThrottle(ScopedRateThrottle):
    """Throttles exports (scope "export", EXPORT_THROTTLE_RATE) and nothing else of a view."""

    scope_attr = "export_throttle_scope"

    def allow_request(self, request, view) -> bool:
        if not getattr(view, "is_export", lambda _request: False)(request):
            return True
        return super().allow_request(request, view)
