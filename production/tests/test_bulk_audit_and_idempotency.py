"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): the answer, the IngestBatch that
audits every ingest, and Idempotency-Key."""

import pytest

from ingest.models import IngestBatch
from production.models import ProductionRecord
from production.tests.bulk_helpers import FIRST_MINUTE_UNIX, post, rows_for

pytestmark = pytest.mark.django_db


# The answer and its audit.


def test_a_successful_ingest_answers_counts_and_its_batch(manager, plant):
    response = post(manager, rows_for(plant, 3))

    assert response.status_code == 201
    assert response.json() == {
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "batch": IngestBatch.objects.get().pk,
    }


def test_a_successful_ingest_is_recorded_as_an_ingest_batch(manager, plant):
    post(manager, {"items": rows_for(plant, 3) + rows_for(plant, 1)}, on_conflict="skip")

    batch = IngestBatch.objects.get()
    assert (batch.user.username, batch.resource, batch.shape, batch.on_conflict) == (
        "manager-user",
        "production",
        "items",
        "skip",
    )
    assert (batch.rows, batch.created, batch.updated, batch.skipped) == (4, 3, 0, 1)
    assert batch.status_code == 201


def test_a_rejected_ingest_is_recorded_without_its_idempotency_key(manager, plant):
    rows = rows_for(plant, 2)
    rows[1]["time"] = "never"

    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    batch = IngestBatch.objects.get()
    assert (batch.status_code, batch.idempotency_key) == (400, None)
    assert "1" in batch.response


def test_a_conflicting_ingest_is_recorded_with_status_409(manager, plant):
    post(manager, rows_for(plant, 1))

    post(manager, rows_for(plant, 1))

    assert list(IngestBatch.objects.values_list("status_code", flat=True)) == [409, 201]


# Idempotency-Key.


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(manager, plant):
    rows = rows_for(plant, 3)
    first = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    retry = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert retry.status_code == 201
    assert retry.content == first.content  # byte for byte: jsonb would reorder the keys
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_a_retry_with_the_same_idempotency_key_writes_nothing(manager, plant):
    rows = rows_for(plant, 3)
    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")
    ProductionRecord.objects.all().delete()

    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert ProductionRecord.objects.count() == 0
    assert IngestBatch.objects.count() == 1


def test_a_first_request_with_an_idempotency_key_is_not_marked_replayed(manager, plant):
    response = post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    assert "Idempotent-Replayed" not in response.headers


def test_the_same_idempotency_key_with_another_body_is_a_409(manager, plant):
    post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(
        manager, rows_for(plant, 3, start=FIRST_MINUTE_UNIX + 3600), HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.count() == 3


def test_the_same_idempotency_key_from_another_user_is_independent(manager, operator, plant):
    post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(
        operator, rows_for(plant, 3, start=FIRST_MINUTE_UNIX + 3600), HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response.headers
    assert ProductionRecord.objects.count() == 6


def test_a_key_whose_request_failed_can_be_used_again(manager, plant):
    rows = rows_for(plant, 2)
    post(manager, [*rows, {"oops": 1}], HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 201, response.content
    assert ProductionRecord.objects.count() == 2


def test_an_idempotency_key_over_200_characters_is_a_400(manager, plant):
    response = post(manager, rows_for(plant, 1), HTTP_IDEMPOTENCY_KEY="k" * 201)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert ProductionRecord.objects.count() == 0
