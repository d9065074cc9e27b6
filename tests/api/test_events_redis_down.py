"""The event stream when Redis goes down (DESIGN §6's rule for the cache, applied to events):
the stream says so (`unavailable`) and ends, writes keep succeeding, reads keep working, and
once Redis is back clients are told they missed events. A private redis-server of this
module's own is stopped and started again; the shared one is never touched."""

import copy
import json
import logging

import pytest
from django.conf import settings as django_settings

from core.events import publish
from inventory.tests.factories import FactoryFactory
from tests.events_helpers import frames_parse, frames_read, named

API = "/sprocketFactory/v1"
URL = f"{API}/production/events"

pytestmark = [
    pytest.mark.skipif(
        not django_settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
        reason="needs Redis (set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def events_on_private_redis(settings, private_redis):
    default = copy.deepcopy(settings.CACHES["default"])
    settings.CACHES = {"default": {**default, "LOCATION": private_redis.url}}
    settings.REDIS_URL = private_redis.url
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2
    publish._lost_streams.clear()
    yield
    publish._lost_streams.clear()


def bulk(client, factory, minute: int):
    row = {
        "factory_id": factory.pk,
        "time": f"2024-03-01T08:{minute:02d}:00Z",
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 2,
    }
    return client.post(
        f"{API}/production/bulk", data=json.dumps([row]), content_type="application/json"
    )


def test_a_stream_opened_while_redis_is_down_says_so_and_ends(api_client, private_redis):
    private_redis.stop()

    response = api_client.get(URL)
    frames = frames_parse(b"".join(response.streaming_content).decode())

    assert response.status_code == 200
    assert [f.get("event") for f in frames] == ["unavailable"]
    assert "refetch" in frames[0]["data"]["detail"]


def test_an_open_stream_says_so_when_redis_goes_down_and_ends(api_client, private_redis):
    response = api_client.get(URL)
    frames_read(response, until=lambda f: named(f, "ready"))

    private_redis.stop()
    rest = frames_parse(b"".join(response.streaming_content).decode())

    assert rest[-1]["event"] == "unavailable"


def test_writes_and_reads_go_on_while_redis_is_down(manager, api_client, private_redis, caplog):
    plant = FactoryFactory()
    private_redis.stop()

    with caplog.at_level(logging.WARNING, logger="core.events.publish"):
        written = bulk(manager, plant, 1)
    read = api_client.get(f"{API}/production/summary?factory_id={plant.pk}")

    assert written.status_code == 201, written.content
    assert read.status_code == 200
    assert read.json()[-1]["sprocket_production_actual"] == 1
    assert any("Events not published" in r.getMessage() for r in caplog.records)


def test_after_an_outage_a_resuming_client_is_told_to_refetch(manager, api_client, private_redis):
    plant = FactoryFactory()
    response = api_client.get(URL)
    last_seen = named(frames_read(response, until=lambda f: named(f, "ready")), "ready")[0]["id"]
    response.close()
    private_redis.stop()
    bulk(manager, plant, 1)  # its event is lost
    private_redis.start()
    bulk(manager, plant, 2)

    again = api_client.get(URL, HTTP_LAST_EVENT_ID=last_seen)
    frames = frames_read(again, until=lambda f: named(f, "ready"))
    again.close()

    # Redis kept nothing across its restart: a new epoch, so the old id cannot resume.
    assert [f.get("event") for f in frames[1:3]] == ["reset", "ready"]


def test_the_first_publish_after_a_failed_one_tells_readers_they_missed_events(
    manager, api_client, private_redis
):
    plant = FactoryFactory()
    response = api_client.get(URL)
    frames_read(response, until=lambda f: named(f, "ready"))
    redis = private_redis
    # Down just long enough for one publish to fail, without losing the stream.
    redis.command("CLIENT", "PAUSE", "2000", "WRITE")
    try:
        blocked = bulk(manager, plant, 1)
    finally:
        redis.command("CLIENT", "UNPAUSE")
    bulk(manager, plant, 2)

    frames = frames_read(response, until=lambda f: named(f, "production"))
    response.close()

    assert blocked.status_code == 201
    assert named(frames, "reset"), frames
    assert named(frames, "production")[-1]["data"]["first"] == "2024-03-01T08:02:00Z"
