"""GET /production/events as a client sees it (core.api.sse): the opening, live events,
the factory filter, heartbeats, resuming with Last-Event-ID, being told to refetch, the
rules of reads, and the caps. Through Django's test clients: the sync generator as WSGI
(runserver) serves it, and the async one as ASGI (uvicorn) serves it. On Redis when
REDIS_URL is set, else on this process's own bus."""

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from inventory.tests.factories import FactoryFactory
from production.events import production_changed_on_commit
from tests.events_helpers import bus_position, frames_parse, frames_read, named

URL = "/sprocketFactory/v1/production/events"
T0 = "2024-03-01T08:00:00Z"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_heartbeats(settings):
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2


def changed(factory_id: int) -> None:
    from core.times import parse_time

    moment = parse_time(T0)
    production_changed_on_commit(factory_id=factory_id, first=moment, last=moment, rows=1)


@pytest.fixture
def stream():
    """Open a stream; every one is closed after the test (as a client going away)."""
    opened = []

    def open_stream(client, query: str = "", **headers):
        response = client.get(URL + query, **headers)
        assert response.status_code == 200, response.content
        opened.append(response)
        return response

    yield open_stream
    for response in opened:
        response.close()


def ready(frames) -> bool:
    return bool(named(frames, "ready"))


def test_the_stream_opens_with_a_retry_hint_and_a_ready_event_holding_its_position(
    api_client, stream
):
    response = stream(api_client)
    frames = frames_read(response, until=ready)

    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["X-Accel-Buffering"] == "no"
    assert "no-cache" in response["Cache-Control"]
    assert frames[0] == {"retry": "3000"}
    assert frames[1]["event"] == "ready"
    assert frames[1]["id"] == frames[1]["data"]["last_event_id"]
    assert frames[1]["id"].endswith("." + bus_position())


def test_a_committed_write_reaches_an_open_stream(api_client, stream):
    plant = FactoryFactory()
    response = stream(api_client)
    opening = frames_read(response, until=ready)

    changed(plant.pk)

    frames = frames_read(response, until=lambda f: named(f, "production"))
    (event,) = named(frames, "production")
    assert event["data"] == {
        "factory_id": plant.pk,
        "action": "write",
        "first": T0,
        "last": T0,
        "rows": 1,
    }
    assert event["id"].split(".")[0] == named(opening, "ready")[0]["id"].split(".")[0]


def test_factory_id_keeps_only_those_factories_events(api_client, stream):
    watched, other = FactoryFactory(), FactoryFactory()
    response = stream(api_client, f"?factory_id={watched.pk}")
    frames_read(response, until=ready)

    changed(other.pk)
    changed(watched.pk)

    frames = frames_read(response, until=lambda f: named(f, "production"))
    assert [f["data"]["factory_id"] for f in named(frames, "production")] == [watched.pk]


def test_an_idle_stream_sends_heartbeats(api_client, stream):
    response = stream(api_client)

    frames = frames_read(response, until=lambda f: len([x for x in f if "comment" in x]) >= 2)

    assert [f["comment"] for f in frames if "comment" in f][:2] == ["heartbeat", "heartbeat"]


def test_a_client_that_reconnects_with_last_event_id_gets_every_event_it_missed(api_client, stream):
    plant = FactoryFactory()
    first = stream(api_client)
    last_seen = named(frames_read(first, until=ready), "ready")[0]["id"]
    for _ in range(3):
        changed(plant.pk)

    again = stream(api_client, HTTP_LAST_EVENT_ID=last_seen)
    frames = frames_read(again, until=lambda f: len(named(f, "production")) == 3)

    missed = named(frames, "production")
    assert [f["data"]["factory_id"] for f in missed] == [plant.pk] * 3
    assert len({f["id"] for f in missed}) == 3
    assert not named(frames, "reset")
    # It resumes where it stopped: its ready event holds the id it sent back.
    assert named(frames, "ready")[0]["id"] == last_seen


def test_a_client_whose_missed_events_were_trimmed_is_told_to_refetch(api_client, settings, stream):
    settings.EVENTS_STREAM_MAXLEN = 3
    plant = FactoryFactory()
    first = stream(api_client)
    last_seen = named(frames_read(first, until=ready), "ready")[0]["id"]
    # More than the stream holds (Redis trims in whole nodes of 100: enough for that too).
    for _ in range(250):
        changed(plant.pk)

    again = stream(api_client, HTTP_LAST_EVENT_ID=last_seen)
    frames = frames_read(again, until=lambda f: named(f, "reset"))

    assert named(frames, "reset")[0]["data"]["detail"]
    assert not named(frames, "production")


@pytest.mark.parametrize("last_event_id", ["1.0-0", "garbage", "12.not-an-id"])
def test_an_id_of_another_epoch_or_not_ours_is_told_to_refetch_then_streams_live(
    api_client, last_event_id, stream
):
    response = stream(api_client, HTTP_LAST_EVENT_ID=last_event_id)
    frames = frames_read(response, until=ready)

    assert [f.get("event") for f in frames[1:]] == ["reset", "ready"]


def test_without_anonymous_reads_an_anonymous_stream_is_refused_in_json(api_client, settings):
    settings.ANONYMOUS_READ = False

    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_an_event_source_refused_gets_the_error_as_an_event(api_client, settings):
    settings.ANONYMOUS_READ = False

    response = api_client.get(URL, HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 401
    assert response["Content-Type"].startswith("text/event-stream")
    (frame,) = frames_parse(response.content.decode())
    assert frame["event"] == "error"
    assert frame["data"]["detail"]


def test_a_viewer_may_stream_when_anonymous_reads_are_off(viewer, settings, stream):
    settings.ANONYMOUS_READ = False

    frames = frames_read(stream(viewer), until=ready)

    assert named(frames, "ready")


@pytest.mark.parametrize("query", ["?factory_id=abc", "?factory_id=-1", "?factory_id=1e3"])
def test_a_bad_factory_id_is_a_json_400(api_client, query):
    response = api_client.get(URL + query)

    assert response.status_code == 400
    assert "factory_id" in response.json()


def test_a_process_at_its_stream_cap_answers_429_with_retry_after(api_client, settings):
    settings.EVENTS_MAX_SYNC_STREAMS = 0

    response = api_client.get(URL)

    assert response.status_code == 429
    assert response["Retry-After"]
    assert response.json()["detail"]


def test_a_stream_ends_after_its_lifetime_so_the_client_reconnects(api_client, settings, stream):
    settings.EVENTS_STREAM_SECONDS = 0

    text = b"".join(stream(api_client).streaming_content).decode()

    assert [f.get("event") for f in frames_parse(text)] == [None, "ready"]


# Under ASGI: the async generator (what uvicorn serves).


async def _async_frames(path: str, *, writes, until, headers=None) -> tuple[object, list[dict]]:
    response = await AsyncClient().get(path, headers=headers)
    text, frames = "", []
    chunks = aiter(response.streaming_content)
    for _ in range(50):
        text += (await anext(chunks)).decode()
        frames = frames_parse(text)
        if ready(frames) and writes:
            await writes.pop()()
        if until(frames):
            await chunks.aclose()
            return response, frames
    raise AssertionError(frames)


def test_under_asgi_the_stream_is_async_and_carries_the_same_events():
    from asgiref.sync import sync_to_async

    plant = FactoryFactory()
    write = sync_to_async(changed)

    async def write_once():
        await write(plant.pk)

    response, frames = async_to_sync(_async_frames)(
        URL + f"?factory_id={plant.pk}",
        writes=[write_once],
        until=lambda f: named(f, "production"),
    )

    assert response.is_async
    assert named(frames, "production")[0]["data"]["factory_id"] == plant.pk


def test_under_asgi_a_reconnect_resumes_after_last_event_id():
    plant = FactoryFactory()
    _, opening = async_to_sync(_async_frames)(URL, writes=[], until=ready)
    last_seen = named(opening, "ready")[0]["id"]
    changed(plant.pk)
    changed(plant.pk)

    _, frames = async_to_sync(_async_frames)(
        URL,
        writes=[],
        until=lambda f: len(named(f, "production")) == 2,
        headers={"Last-Event-ID": last_seen},
    )

    assert [f["data"]["factory_id"] for f in named(frames, "production")] == [plant.pk] * 2


def test_a_stream_holds_its_place_from_its_answer_until_it_is_closed(api_client, settings):
    settings.EVENTS_MAX_SYNC_STREAMS = 1

    first = api_client.get(URL)  # answered, not yet read: it holds the place already
    refused = api_client.get(URL)
    first.close()  # the client left before the first frame: the place is given back
    again = api_client.get(URL)
    again.close()

    assert first.status_code == 200
    assert refused.status_code == 429
    assert again.status_code == 200


def test_an_open_stream_that_fell_behind_what_the_stream_holds_is_told_to_refetch(
    api_client, settings, stream
):
    settings.EVENTS_STREAM_MAXLEN = 3
    plant = FactoryFactory()
    response = stream(api_client)
    frames_read(response, until=ready)
    for _ in range(250):  # while this client reads nothing
        changed(plant.pk)

    frames = frames_read(response, until=lambda f: named(f, "reset"))

    assert not named(frames, "production")
