"""Keyset pagination on every list: bare arrays, `limit`, `ordering`, and RFC 8288 next links."""

import base64
import json
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.models import ProductionRecord
from production.tests.factories import FIRST_MINUTE, MINUTE, create_records

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
SPROCKETS = f"{API}/sprockets"
FACTORIES = f"{API}/factories"
LINK = re.compile(r'^<(?P<url>[^<>]+)>; rel="next"$')

pytestmark = pytest.mark.django_db


def next_url(response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = LINK.match(link)
    assert match, link
    return match["url"]


def walk(client, url: str, params: dict | None = None, after_each_page=None) -> list[dict]:
    """Every row from following next links from the first page to the last."""
    rows = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        page = response.json()
        rows.extend(page)
        if after_each_page is not None:
            after_each_page(page)
        url = next_url(response)
        if url is None:
            return rows
        response = client.get(url)


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def error_fields(response) -> list[str]:
    assert response.status_code == 400, response.content
    return list(response.json())


# limit


def test_a_list_is_paged_at_1000_rows_by_default(api_client):
    create_records(FactoryFactory(), 1001)

    response = api_client.get(PRODUCTION)

    assert len(response.json()) == 1000
    assert next_url(response) is not None


def test_the_page_after_the_default_page_holds_the_rest(api_client):
    records = create_records(FactoryFactory(), 1001)

    first = api_client.get(PRODUCTION)
    rest = api_client.get(next_url(first))

    assert [r["id"] for r in rest.json()] == [records[-1].pk]
    assert "Link" not in rest.headers


def test_limit_sets_the_page_size(api_client):
    create_records(FactoryFactory(), 5)

    response = api_client.get(PRODUCTION, {"limit": 2})

    assert len(response.json()) == 2


@pytest.mark.parametrize("limit", [1, 10000])
def test_limit_at_either_bound_is_accepted(api_client, limit):
    create_records(FactoryFactory(), 3)

    response = api_client.get(PRODUCTION, {"limit": limit})

    assert response.status_code == 200
    assert len(response.json()) == min(limit, 3)


@pytest.mark.parametrize("url", [PRODUCTION, SPROCKETS, FACTORIES])
@pytest.mark.parametrize("limit", ["0", "10001", "x", "-1", "1.0", "1e3", " 5", "\x00"])
def test_limit_out_of_bounds_or_not_a_whole_number_is_a_400_naming_it(api_client, url, limit):
    assert error_fields(api_client.get(url, {"limit": limit})) == ["limit"]


@pytest.mark.parametrize("limit", ["\u00b2", "\u2460"])
def test_limit_of_a_unicode_digit_is_a_400_naming_it(api_client, limit):
    assert error_fields(api_client.get(SPROCKETS, {"limit": limit})) == ["limit"]


# The Link header


def test_a_next_link_is_an_rfc_8288_link_to_the_same_list(api_client):
    create_records(FactoryFactory(), 3)

    response = api_client.get(PRODUCTION, {"limit": 2})

    url = next_url(response)
    assert url.startswith(f"http://testserver{PRODUCTION}?")
    assert set(parse_qs(urlsplit(url).query)) == {"limit", "cursor"}


def test_there_is_no_next_link_on_a_last_page_that_is_exactly_full(api_client):
    create_records(FactoryFactory(), 4)

    first = api_client.get(PRODUCTION, {"limit": 2})
    last = api_client.get(next_url(first))

    assert len(last.json()) == 2
    assert "Link" not in last.headers


def test_there_is_no_next_link_when_everything_fits_on_one_page(api_client):
    create_records(FactoryFactory(), 3)

    response = api_client.get(PRODUCTION, {"limit": 3})

    assert len(response.json()) == 3
    assert "Link" not in response.headers


def test_a_next_link_keeps_the_filters_and_the_ordering(api_client):
    plant = FactoryFactory()
    create_records(plant, 5)
    query = {"after": "2021-01-21T04:07:58+02:00", "ordering": "-time", "limit": 2}

    url = next_url(api_client.get(f"{PRODUCTION}/{plant.pk}", query))

    kept = {k: v for k, (v,) in parse_qs(urlsplit(url).query).items() if k != "cursor"}
    assert kept == {"after": "2021-01-21T04:07:58+02:00", "ordering": "-time", "limit": "2"}


def test_following_links_with_a_filter_walks_only_the_filtered_rows(api_client):
    plant, other = FactoryFactory(), FactoryFactory()
    wanted = create_records(plant, 7)
    create_records(other, 7)

    rows = walk(api_client, PRODUCTION, {"factory_id": plant.pk, "limit": 3})

    assert [r["id"] for r in rows] == [r.pk for r in wanted]


# Walking every page while rows are inserted


def test_following_links_sees_every_existing_record_once_in_order_while_rows_are_inserted(
    api_client,
):
    before_all = FactoryFactory()  # a lower id than every walked factory
    walked = [FactoryFactory() for _ in range(5)]
    after_all = FactoryFactory()  # a higher id than every walked factory
    for factory in walked:
        create_records(factory, 500)
    existing = list(ProductionRecord.objects.values_list("id", flat=True))
    assert len(existing) == 2500
    inserted = []

    def insert_around_the_cursor(page: list[dict]) -> None:
        n = len(inserted)
        at = Factory.objects.get(pk=page[-1]["factory_id"])
        for factory, time in [
            (before_all, FIRST_MINUTE + n * MINUTE),  # before the cursor: another factory
            (after_all, FIRST_MINUTE + n * MINUTE),  # after the cursor: another factory
            (at, FIRST_MINUTE - (n + 1) * MINUTE),  # before the cursor: an earlier time
            (at, FIRST_MINUTE + (1000 + n) * MINUTE),  # after the cursor: a later time
        ]:
            inserted.extend(create_records(factory, 1, start=time))

    rows = walk(api_client, PRODUCTION, {"limit": 300}, after_each_page=insert_around_the_cursor)

    seen = Counter(r["id"] for r in rows)
    assert len(inserted) >= 4 * 8
    assert [pk for pk, times in seen.items() if times > 1] == []
    assert [pk for pk in existing if seen[pk] != 1] == []
    keys = [(r["factory_id"], r["time"]) for r in rows]
    assert keys == sorted(keys)


def test_following_links_newest_first_sees_every_existing_record_once_while_rows_are_inserted(
    api_client,
):
    plant, neighbour = FactoryFactory(), FactoryFactory()
    existing = [r.pk for r in create_records(plant, 1200)]
    create_records(neighbour, 50)
    inserted = []

    def insert_around_the_cursor(page: list[dict]) -> None:
        n = len(inserted)
        for factory, time in [
            (plant, FIRST_MINUTE + (5000 + n) * MINUTE),  # newer: before the cursor
            (plant, FIRST_MINUTE - (n + 1) * MINUTE),  # older: after the cursor
            (neighbour, FIRST_MINUTE + (100 + n) * MINUTE),  # another factory
        ]:
            inserted.extend(create_records(factory, 1, start=time))

    rows = walk(
        api_client,
        f"{PRODUCTION}/{plant.pk}",
        {"ordering": "-time", "limit": 250},
        after_each_page=insert_around_the_cursor,
    )

    seen = Counter(r["id"] for r in rows)
    assert len(inserted) >= 3 * 4
    assert max(seen.values()) == 1
    assert [pk for pk in existing if seen[pk] != 1] == []
    assert {r["factory_id"] for r in rows} == {plant.pk}
    times = [r["time"] for r in rows]
    assert times == sorted(times, reverse=True)


# Every allowed ordering, walked in small pages


NAMES = ["delta", None, "alpha", None, "charlie", "bravo", None, "echo"]


def expected_by_name(objects: list, descending: bool) -> list[int]:
    """Named rows by name (then id), NULL names last either way (then by id)."""
    named = sorted((o for o in objects if o.name is not None), key=lambda o: (o.name, o.pk))
    unnamed = sorted((o for o in objects if o.name is None), key=lambda o: o.pk)
    if descending:
        named.reverse()
        unnamed.reverse()
    return [o.pk for o in named + unnamed]


@pytest.fixture
def sprockets_with_null_names():
    return [SprocketFactory(name=name) for name in NAMES]


@pytest.mark.parametrize(("ordering", "descending"), [("id", False), ("-id", True)])
def test_sprockets_walk_by_id(api_client, sprockets_with_null_names, ordering, descending):
    rows = walk(api_client, SPROCKETS, {"ordering": ordering, "limit": 3})

    expected = sorted((s.pk for s in sprockets_with_null_names), reverse=descending)
    assert [r["id"] for r in rows] == expected


@pytest.mark.parametrize(("ordering", "descending"), [("name", False), ("-name", True)])
def test_sprockets_walk_by_name_with_null_names_last(
    api_client, sprockets_with_null_names, ordering, descending
):
    rows = walk(api_client, SPROCKETS, {"ordering": ordering, "limit": 2})

    assert [r["id"] for r in rows] == expected_by_name(sprockets_with_null_names, descending)


def test_sprockets_are_listed_by_id_by_default(api_client, sprockets_with_null_names):
    rows = walk(api_client, SPROCKETS, {"limit": 3})

    assert [r["id"] for r in rows] == sorted(s.pk for s in sprockets_with_null_names)


@pytest.fixture
def factories_out_of_name_order():
    return [FactoryFactory(name=name) for name in ["delta", "alpha", "charlie", "bravo", "echo"]]


@pytest.mark.parametrize(("ordering", "descending"), [("id", False), ("-id", True)])
def test_factories_walk_by_id(api_client, factories_out_of_name_order, ordering, descending):
    rows = walk(api_client, FACTORIES, {"ordering": ordering, "limit": 2})

    expected = sorted((f.pk for f in factories_out_of_name_order), reverse=descending)
    assert [r["id"] for r in rows] == expected


@pytest.mark.parametrize(("ordering", "descending"), [("name", False), ("-name", True)])
def test_factories_walk_by_name(api_client, factories_out_of_name_order, ordering, descending):
    rows = walk(api_client, FACTORIES, {"ordering": ordering, "limit": 2})

    assert [r["id"] for r in rows] == expected_by_name(factories_out_of_name_order, descending)


@pytest.mark.parametrize(("ordering", "descending"), [("time", False), ("-time", True)])
def test_one_factorys_production_walks_by_time(api_client, ordering, descending):
    plant = FactoryFactory()
    # Inserted newest first, so id order is not time order.
    records = create_records(plant, 7, start=FIRST_MINUTE + 10 * MINUTE, step=-MINUTE)

    rows = walk(api_client, f"{PRODUCTION}/{plant.pk}", {"ordering": ordering, "limit": 3})

    expected = sorted(records, key=lambda r: r.time, reverse=descending)
    assert [r["id"] for r in rows] == [r.pk for r in expected]


def test_one_factorys_production_is_listed_oldest_first_by_default(api_client):
    plant = FactoryFactory()
    records = create_records(plant, 5, start=FIRST_MINUTE + 10 * MINUTE, step=-MINUTE)

    rows = walk(api_client, f"{PRODUCTION}/{plant.pk}", {"limit": 2})

    assert [r["id"] for r in rows] == [r.pk for r in reversed(records)]


def test_all_production_walks_by_factory_then_time_when_named_explicitly(api_client):
    first, second = FactoryFactory(), FactoryFactory()
    late = create_records(second, 3, start=FIRST_MINUTE)
    early = create_records(first, 3, start=FIRST_MINUTE + 60 * MINUTE)

    rows = walk(api_client, PRODUCTION, {"ordering": "factory_id,time", "limit": 2})

    assert [r["id"] for r in rows] == [r.pk for r in early + late]


@pytest.mark.parametrize(
    ("url", "ordering"),
    [
        (SPROCKETS, "teeth"),
        (SPROCKETS, "created_at"),
        (SPROCKETS, "name,id"),
        (FACTORIES, "timezone"),
        (PRODUCTION, "time"),
        (PRODUCTION, "-time"),
        (PRODUCTION, "-factory_id,time"),
        (f"{PRODUCTION}/1", "factory_id,time"),
        (f"{PRODUCTION}/1", "id"),
        (SPROCKETS, "\x00"),
    ],
)
def test_an_ordering_that_is_not_allowed_is_a_400_naming_it(api_client, url, ordering):
    FactoryFactory(pk=1)

    assert error_fields(api_client.get(url, {"ordering": ordering})) == ["ordering"]


# Tampered cursors


@pytest.fixture
def sprockets():
    return SprocketFactory.create_batch(5)


@pytest.mark.parametrize(
    "token",
    [
        "!!!",
        "not-base64-at-all~",
        base64.urlsafe_b64encode(b"not json").decode(),
        cursor({"ordering": "id"}),
        cursor(["id"]),
        cursor(["id", 2]),
        cursor(["id", [2, 3]]),
        cursor(["id", ["two"]]),
        cursor(["id", [{"pk": 2}]]),
        "\x00",
    ],
)
def test_a_tampered_sprocket_cursor_is_a_400_naming_it(api_client, sprockets, token):
    assert error_fields(api_client.get(SPROCKETS, {"cursor": token})) == ["cursor"]


def test_a_cursor_of_another_ordering_is_a_400(api_client, sprockets):
    url = next_url(api_client.get(SPROCKETS, {"ordering": "id", "limit": 2}))
    token = parse_qs(urlsplit(url).query)["cursor"][0]

    response = api_client.get(SPROCKETS, {"ordering": "-id", "cursor": token})

    assert error_fields(response) == ["cursor"]


@pytest.mark.parametrize(
    "values",
    [[1, "soon"], [1, 5], ["one", "2021-01-21T02:06:58Z"], [1], [1, "2021-01-21T02:06:58Z", 3]],
)
def test_a_tampered_production_cursor_is_a_400_naming_it(api_client, values):
    create_records(FactoryFactory(), 3)

    response = api_client.get(PRODUCTION, {"cursor": cursor(["factory_id,time", values])})

    assert error_fields(response) == ["cursor"]


def test_a_cursor_with_an_id_beyond_64_bits_is_a_400(api_client):
    create_records(FactoryFactory(), 3)
    token = cursor(["factory_id,time", [2**64, "2021-01-21T02:06:58Z"]])

    assert error_fields(api_client.get(PRODUCTION, {"cursor": token})) == ["cursor"]


def test_a_genuine_cursor_continues_after_the_last_row_seen(api_client, sprockets):
    url = next_url(api_client.get(SPROCKETS, {"limit": 2}))

    assert [r["id"] for r in api_client.get(url).json()] == [s.pk for s in sprockets[2:4]]
