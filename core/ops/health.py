"""Operations endpoints: liveness, readiness and Prometheus metrics."""

import asyncio
import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_prometheus.exports import ExportToDjangoView
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from core.redis_connections import redis_from_settings

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request) -> JsonResponse:
    """The process answers. It touches neither PostgreSQL nor Redis."""
    return JsonResponse({"status": "ok"})


def _redis_client() -> RedisClient:
    timeout = settings.REDIS_SOCKET_TIMEOUT
    return redis_from_settings(
        asynchronous=True, socket_timeout=timeout, socket_connect_timeout=timeout
    )


class ReadinessView(HealthCheckView):
    """The database and the cache are reachable: 200, or 503 JSON naming what is down.

    django-health-check's own view answers 500 when a check fails; load balancers and
    orchestrators expect 503 for "not ready".
    """

    def get_checks(self):
        yield Database()
        yield Redis(client_factory=_redis_client) if settings.REDIS_URL else Cache()

    async def get(self, request, *args, **kwargs):
        names = ["database", "cache"]
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        down = [name for name, result in zip(names, results, strict=True) if result.error]
        for name, result in zip(names, results, strict=True):
            if result.error:
                # The detail names hosts and users: for the log, not for the client.
                logger.warning("Not ready: %s: %s", name, result.error)
        checks = {name: "down" if name in down else "ok" for name in names}
        body = {"status": "unavailable" if down else "ok", "checks": checks}
        if down:
            body["down"] = down
        return JsonResponse(body, status=503 if down else 200)


def _metrics_allowed(request) -> bool:
    if settings.METRICS_PUBLIC:
        return True
    expected = f"Bearer {settings.METRICS_TOKEN}" if settings.METRICS_TOKEN else None
    if expected and constant_time_compare(request.headers.get("Authorization", ""), expected):
        return True
    return request.user.is_authenticated and request.user.is_staff


@never_cache
@require_safe
def metrics(request):
    """Prometheus metrics of every gunicorn worker; for staff, a bearer token, or everyone
    when METRICS_PUBLIC is on."""
    if not _metrics_allowed(request):
        return JsonResponse(
            {"detail": "Metrics need METRICS_TOKEN as a bearer token, or a staff login."},
            status=403,
        )
    return ExportToDjangoView(request)
