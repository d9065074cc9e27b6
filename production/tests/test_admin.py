import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

CHANGELIST = reverse("admin:production_productionrecord_changelist")
AUTOCOMPLETE = reverse("admin:autocomplete")
FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)

# A COUNT whose FROM is the table itself rather than a LIMITed subquery counts every row.
UNBOUNDED_COUNT = re.compile(
    r'COUNT\(\*\)\s+(AS\s+"__count"\s+)?FROM\s+"production_productionrecord"'
)


# Requests are made with secure=True because with DATABASE_URL set (and DEBUG off) the
# admin is served as in production, where SECURE_SSL_REDIRECT sends plain HTTP to HTTPS.


def add_minutes(factory: Factory, minutes: int) -> None:
    ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory=factory,
            time=FIRST_MINUTE + timedelta(minutes=minute),
            sprocket_production_actual=30,
            sprocket_production_goal=32,
        )
        for minute in range(minutes)
    )


def listed(response) -> list[ProductionRecord]:
    return list(response.context["cl"].result_list)


def test_the_production_change_list_loads(staff_client):
    add_minutes(FactoryFactory(), 3)

    response = staff_client.get(CHANGELIST, secure=True)

    assert response.status_code == 200
    assert len(listed(response)) == 3


def test_the_production_add_page_loads(staff_client):
    response = staff_client.get(reverse("admin:production_productionrecord_add"), secure=True)

    assert response.status_code == 200


def test_the_production_change_page_loads(staff_client):
    factory = FactoryFactory(name="Plant North")
    add_minutes(factory, 1)
    record = ProductionRecord.objects.get()

    response = staff_client.get(
        reverse("admin:production_productionrecord_change", args=[record.pk]), secure=True
    )

    assert response.status_code == 200
    assert response.context["original"] == record
    assert "Plant North" in response.content.decode()


def test_the_search_narrows_the_production_change_list_by_factory_name(staff_client):
    north = FactoryFactory(name="Plant North")
    add_minutes(north, 2)
    add_minutes(FactoryFactory(name="Works East"), 2)

    response = staff_client.get(CHANGELIST, {"q": "north"}, secure=True)

    assert response.status_code == 200
    assert {r.factory_id for r in listed(response)} == {north.pk}
    assert len(listed(response)) == 2


def test_the_factory_filter_narrows_the_change_list_to_that_factory(staff_client):
    north = FactoryFactory(name="Plant North")
    add_minutes(north, 3)
    add_minutes(FactoryFactory(name="Plant South"), 4)

    response = staff_client.get(CHANGELIST, {"factory": str(north.pk)}, secure=True)

    assert response.status_code == 200
    assert {r.factory_id for r in listed(response)} == {north.pk}
    assert len(listed(response)) == 3


def test_the_factory_filter_shows_the_chosen_factory(staff_client):
    north = FactoryFactory(name="Plant North")
    add_minutes(north, 1)

    response = staff_client.get(CHANGELIST, {"factory": str(north.pk)}, secure=True)

    assert f'<option value="{north.pk}" selected>Plant North</option>' in (
        response.content.decode()
    )


def test_the_factory_filter_of_a_factory_without_production_lists_nothing(staff_client):
    add_minutes(FactoryFactory(name="Plant North"), 2)
    idle = FactoryFactory(name="Plant Idle")

    response = staff_client.get(CHANGELIST, {"factory": str(idle.pk)}, secure=True)

    assert response.status_code == 200
    assert listed(response) == []


@pytest.mark.parametrize("value", ["abc", "²"])
def test_a_factory_filter_that_is_not_an_id_redirects_with_an_error_flag(staff_client, value):
    add_minutes(FactoryFactory(), 1)

    response = staff_client.get(CHANGELIST, {"factory": value}, secure=True)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_date_filter_narrows_the_change_list_to_the_time_window(staff_client):
    factory = FactoryFactory()
    add_minutes(factory, 10)

    response = staff_client.get(
        CHANGELIST,
        {
            "time__gte": str(FIRST_MINUTE + timedelta(minutes=2)),
            "time__lt": str(FIRST_MINUTE + timedelta(minutes=5)),
        },
        secure=True,
    )

    assert response.status_code == 200
    assert [r.time for r in listed(response)] == [
        FIRST_MINUTE + timedelta(minutes=minute) for minute in (2, 3, 4)
    ]


def test_the_autocomplete_endpoint_returns_the_matching_factories(staff_client):
    north = FactoryFactory(name="Plant North")
    south = FactoryFactory(name="Plant South")
    FactoryFactory(name="Works East")

    response = staff_client.get(
        AUTOCOMPLETE,
        {
            "app_label": "production",
            "model_name": "productionrecord",
            "field_name": "factory",
            "term": "Plant",
        },
        secure=True,
    )

    assert response.status_code == 200
    assert sorted(response.json()["results"], key=lambda r: r["text"]) == [
        {"id": str(north.pk), "text": "Plant North"},
        {"id": str(south.pk), "text": "Plant South"},
    ]


def test_the_change_list_of_ten_thousand_records_takes_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    add_minutes(FactoryFactory(), 10_000)

    with django_assert_max_num_queries(12):
        response = staff_client.get(CHANGELIST, secure=True)

    assert response.status_code == 200
    assert len(listed(response)) == 100


def test_the_change_list_never_counts_the_whole_production_table(
    staff_client, django_assert_max_num_queries
):
    add_minutes(FactoryFactory(), 10_000)

    with django_assert_max_num_queries(12) as captured:
        staff_client.get(CHANGELIST, secure=True)

    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the change list issued no count at all"
    assert all("LIMIT" in sql.upper() for sql in counts)
    assert not any(UNBOUNDED_COUNT.search(sql) for sql in counts)


def test_the_change_list_count_stops_one_past_the_configured_limit(staff_client, settings):
    settings.ADMIN_PRODUCTION_COUNT_LIMIT = 500
    add_minutes(FactoryFactory(), 1_000)

    response = staff_client.get(CHANGELIST, secure=True)

    assert response.context["cl"].result_count == 501
    assert response.context["cl"].full_result_count is None


def test_deleting_selected_records_confirms_with_a_count_not_a_list(staff_client):
    factory = FactoryFactory()
    add_minutes(factory, 25)
    ids = list(ProductionRecord.objects.values_list("pk", flat=True))

    response = staff_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": ids}, secure=True
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "25 production records" in page
    assert page.count("/admin/production/productionrecord/") < 10


def test_a_time_saved_in_the_admin_is_kept_to_the_whole_second(db):
    from datetime import UTC, datetime

    record = ProductionRecord.objects.create(
        factory=FactoryFactory(),
        time=datetime(2024, 1, 1, 8, 0, 5, 123456, tzinfo=UTC),
        sprocket_production_actual=1,
        sprocket_production_goal=1,
    )
    record.refresh_from_db()

    assert record.time == datetime(2024, 1, 1, 8, 0, 5, tzinfo=UTC)


def test_the_change_list_names_its_columns_briefly(staff_client):
    add_minutes(FactoryFactory(), 1)

    response = staff_client.get(CHANGELIST, secure=True)

    headers = re.findall(r'<th scope="col" class="column-(\w+)">', response.content.decode())
    assert headers == ["time_utc", "factory", "actual", "goal", "attainment"]
    for label in ("Time (UTC)", "Actual", "Goal", "Attainment"):
        assert f">{label}<" in response.content.decode()


def test_the_change_list_writes_times_compactly_in_utc_with_attainment(staff_client):
    add_minutes(FactoryFactory(), 1)

    page = staff_client.get(CHANGELIST, secure=True).content.decode()

    assert ">2021-01-21 02:06:58</a>" in page
    assert ">93.8%<" in page


def test_the_factory_filter_has_a_placeholder(staff_client):
    add_minutes(FactoryFactory(), 1)

    page = staff_client.get(CHANGELIST, secure=True).content.decode()

    assert 'data-placeholder="Filter by factory…"' in page


def test_every_admin_page_links_the_sprocket_favicon(staff_client):
    page = staff_client.get(reverse("admin:index"), secure=True).content.decode()

    assert '<link rel="icon" type="image/svg+xml" href="/static/production/favicon.svg">' in page
    assert "Django administration" in page
