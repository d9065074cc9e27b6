"""The IngestBatch audit in the admin: listed, read-only."""

from ingest.models import IngestBatch


def test_the_ingest_batch_audit_lists_bulk_requests_read_only(staff_client, django_user_model):
    batch = IngestBatch.objects.create(
        user=django_user_model.objects.get(username="admin"),
        resource="production",
        shape="array",
        on_conflict="error",
        request_hash="0" * 64,
        status_code=201,
        rows=3,
        created=3,
    )

    listing = staff_client.get("/admin/ingest/ingestbatch/")
    detail = staff_client.get(f"/admin/ingest/ingestbatch/{batch.pk}/change/")
    add = staff_client.get("/admin/ingest/ingestbatch/add/")

    assert listing.status_code == 200
    assert [b.pk for b in listing.context["cl"].result_list] == [batch.pk]
    assert detail.status_code == 200
    assert "_save" not in detail.content.decode()
    assert add.status_code == 403


def test_the_ingest_batch_audit_cannot_be_deleted(staff_client, django_user_model):
    batch = IngestBatch.objects.create(
        resource="production", on_conflict="error", request_hash="0" * 64, status_code=201
    )

    response = staff_client.get(f"/admin/ingest/ingestbatch/{batch.pk}/delete/")

    assert response.status_code == 403
