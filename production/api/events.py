"""GET /production/events: committed production as Server-Sent Events (core.api.sse)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from core.api.filters import IdListFilter, query_params_clean
from core.api.sse import EventStreamView
from production.events import STREAM
from production.models import ProductionRecord

EVENTS_DESCRIPTION = """Committed production as [Server-Sent Events](https://html.spec.whatwg.org/multipage/server-sent-events.html)
(`text/event-stream`); open it with `new EventSource(url)` or `curl -N`.

- `ready` — the stream is live; its `id` is where a reconnect resumes.
- `production` — `{"factory_id", "action": "write"|"delete", "first", "last", "rows"}`: one
  commit's records of one factory, between `first` and `last` (UTC, inclusive). Refetch the
  buckets of that range (`/production/summary?factory_id=…&after=…&before=…`).
- `alert` — an alert opened or resolved: `{"event": "alert.opened"|"alert.resolved", "id",
  "rule_id", "factory_id", "state", "opened_at", "resolved_at", ...}` (`/alerts`).
- `reset` — events were missed (the client was away longer than the stream holds, or the
  event store restarted): refetch everything shown.
- `unavailable` — the event store is down; the stream ends. Refetch periodically; the
  browser reconnects by itself.
- `: heartbeat` comments every `EVENTS_HEARTBEAT_SECONDS`.

A reconnect sends `Last-Event-ID` (browsers do it themselves) and gets every event it missed
that the stream still holds."""


class ProductionEventsFilterSet(filters.FilterSet):
    factory_id = IdListFilter(method="as_parameter", help_text="Repeatable; default every factory.")

    class Meta:
        model = ProductionRecord
        fields = []

    def as_parameter(self, queryset, name, value):
        return queryset


class StreamEventSerializer(serializers.Serializer):
    """One event of the stream, as an EventSource delivers it."""

    event = serializers.ChoiceField(
        choices=["ready", "production", "reset", "unavailable", "error"], required=False
    )
    id = serializers.CharField(required=False, help_text="Send back as Last-Event-ID.")
    data = serializers.CharField(required=False, help_text="The event's JSON object.")
    retry = serializers.IntegerField(required=False, help_text="Milliseconds to reconnect in.")


class ProductionEventsView(EventStreamView):
    __doc__ = EVENTS_DESCRIPTION
    stream = STREAM
    permission_model = ProductionRecord
    filterset_class = ProductionEventsFilterSet
    factory_ids: frozenset[int] = frozenset()

    def prepare(self, request) -> None:
        self.factory_ids = frozenset(
            query_params_clean(self.filterset_class, request)["factory_id"] or ()
        )

    def event_wanted(self, data: dict) -> bool:
        return not self.factory_ids or data.get("factory_id") in self.factory_ids

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "factory_id", int, many=True, description="Repeatable; default every factory."
            ),
            OpenApiParameter(
                "Last-Event-ID",
                str,
                location=OpenApiParameter.HEADER,
                description="The id of the last event received: resume after it.",
            ),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(StreamEventSerializer, "The stream."),
            400: OpenApiResponse(description="A bad factory_id."),
            429: OpenApiResponse(description="The process holds as many streams as it may."),
        },
    )
    def get(self, request):
        return super().get(request)
