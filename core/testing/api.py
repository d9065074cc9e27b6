"""What every resource's API does alike, tested once (NetBox's `APIViewTestCases`, for pytest).

A resource's test class declares itself and inherits the tests of DESIGN §4 and §5:

    class TestSprocketAPI(APIViewTestCases.APIViewTestCase):
        model = Sprocket
        factory = SprocketFactory
        list_url = "/sprocketFactory/v1/sprockets"
        detail_url = "/sprocketFactory/v1/sprockets/{pk}"
        fields = {"id", "name", "teeth", ...}
        create_data = {"teeth": 12, ...}          # a POST body
        update_data = {"teeth": 7, ...}           # a PUT body
        partial_update_data = {"teeth": 9}        # a PATCH body
        max_list_queries = 1

`roles` names the roles that may do each action: by default every role views and only the
manager adds, changes and deletes. Objects come from `create_objects`, which builds them with
`factory`; a class whose objects need more overrides it, and overrides `build_create_data`,
`build_update_data` or `build_partial_update_data` when a body must name another object.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.db import models
from django.db.models import Max
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.roles import ROLES

NOBODY = "nobody"  # an authenticated user in no role group: one who may do nothing
ACTIONS = ("view", "add", "change", "delete")
CHANGE_METHODS = pytest.mark.parametrize("method", ["put", "patch"])
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
anonymous_read_on_and_off = pytest.mark.parametrize(
    "anonymous_read", [True, False], ids=["anonymous-read-on", "anonymous-read-off"]
)


def as_json(value: Any) -> Any:
    """A stored value the way the API writes it, to compare with a request body."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


class APITestCase:
    """The declarations, the clients and the helpers the mixins share."""

    model: ClassVar[type[models.Model]]
    factory: ClassVar[type]  # a factory-boy factory of `model`
    list_url: ClassVar[str]
    detail_url: ClassVar[str]  # with a `{pk}` placeholder
    fields: ClassVar[set[str]]  # exactly the documented fields of one object
    roles: ClassVar[Mapping[str, Sequence[str]]] = {
        "view": ROLES,
        "add": ("manager",),
        "change": ("manager",),
        "delete": ("manager",),
    }

    pytestmark = pytest.mark.django_db

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """A test taking `role_that_may_<action>` runs once per role that may; one taking
        `role_that_may_not_<action>` once per role that may not, and once for a user in none."""
        for action in ACTIONS:
            may = tuple(self.roles[action])
            if f"role_that_may_{action}" in metafunc.fixturenames:
                metafunc.parametrize(f"role_that_may_{action}", may)
            if f"role_that_may_not_{action}" in metafunc.fixturenames:
                may_not = [*(role for role in ROLES if role not in may), NOBODY]
                metafunc.parametrize(f"role_that_may_not_{action}", may_not)

    @pytest.fixture
    def client_as(self, api_client_as, django_user_model) -> Callable[[str], APIClient]:
        """An API client with a token of a user in the role (NOBODY: a user in no role)."""

        def make(role: str) -> APIClient:
            if role != NOBODY:
                return api_client_as(role)
            _, token = AuthToken.objects.create(user=django_user_model.objects.create_user(role))
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            return client

        return make

    @pytest.fixture
    def client_that_may(self, client_as) -> Callable[[str], APIClient]:
        """An API client of the first role that may do the action."""
        return lambda action: client_as(self.roles[action][0])

    @pytest.fixture
    def anonymous(self, api_client, settings) -> APIClient:
        """An anonymous API client while anonymous reads are on (the default)."""
        settings.ANONYMOUS_READ = True
        return api_client

    def create_objects(self, count: int) -> list[models.Model]:
        """`count` stored objects, inserted in one query."""
        return self.model.objects.bulk_create(self.factory.build_batch(count))

    def create_object(self) -> models.Model:
        (obj,) = self.create_objects(1)
        return obj

    def url_of(self, pk: int, slash: str = "") -> str:
        return self.detail_url.format(pk=pk) + slash

    def unknown_pk(self) -> int:
        """An id no stored object has (ids are not reset between tests on PostgreSQL)."""
        return (self.model.objects.aggregate(highest=Max("pk"))["highest"] or 0) + 1

    def stored_rows(self) -> list[dict]:
        """Every stored object, every column: to tell whether a request wrote anything."""
        return list(self.model.objects.order_by("pk").values())

    def assert_stored(self, pk: int, data: dict) -> None:
        """The object `pk` is stored with the values of the request body `data`."""
        stored = self.model.objects.get(pk=pk)
        assert {name: as_json(getattr(stored, name)) for name in data} == data


class APIViewTestCases:
    class GetObjectViewTestCase(APITestCase):
        """`GET detail_url`: 200, or 404 for an unknown id; who may."""

        @with_and_without_slash
        def test_getting_one_object_answers_it_as_the_list_does(self, anonymous, slash):
            obj = self.create_objects(2)[1]
            listed = {row["id"]: row for row in anonymous.get(self.list_url).json()}

            response = anonymous.get(self.url_of(obj.pk, slash))

            assert response.status_code == 200
            assert response.json() == listed[obj.pk]

        @with_and_without_slash
        def test_getting_an_unknown_id_is_a_404_with_a_detail(self, anonymous, slash):
            self.create_object()

            response = anonymous.get(self.url_of(self.unknown_pk(), slash))

            assert response.status_code == 404
            assert "detail" in response.json()

        def test_anonymous_getting_one_is_a_401_while_anonymous_reads_are_off(
            self, api_client, settings
        ):
            settings.ANONYMOUS_READ = False

            response = api_client.get(self.url_of(self.create_object().pk))

            assert response.status_code == 401

        def test_a_role_that_may_view_gets_one_while_anonymous_reads_are_off(
            self, client_as, settings, role_that_may_view
        ):
            settings.ANONYMOUS_READ = False
            obj = self.create_object()

            response = client_as(role_that_may_view).get(self.url_of(obj.pk))

            assert response.status_code == 200
            assert response.json()["id"] == obj.pk

        def test_a_user_that_may_not_view_is_refused_one_with_403_while_anonymous_reads_are_off(
            self, client_as, settings, role_that_may_not_view
        ):
            settings.ANONYMOUS_READ = False

            response = client_as(role_that_may_not_view).get(self.url_of(self.create_object().pk))

            assert response.status_code == 403

    class ListObjectsViewTestCase(APITestCase):
        """`GET list_url`: a bare JSON array of documented fields, in a bounded number of
        queries; who may."""

        max_list_queries: ClassVar[int]

        @with_and_without_slash
        def test_listing_answers_a_bare_array_of_every_object_in_the_models_order(
            self, anonymous, slash
        ):
            self.create_objects(3)

            response = anonymous.get(f"{self.list_url}{slash}")

            assert response.status_code == 200
            assert [row["id"] for row in response.json()] == list(
                self.model.objects.values_list("pk", flat=True)
            )

        def test_each_listed_object_has_exactly_the_documented_fields(self, anonymous):
            self.create_objects(3)

            rows = anonymous.get(self.list_url).json()

            assert [set(row) for row in rows] == [set(self.fields)] * 3

        def test_listing_no_objects_answers_an_empty_array(self, anonymous):
            response = anonymous.get(self.list_url)

            assert response.status_code == 200
            assert response.json() == []

        @pytest.mark.parametrize("rows", [10, 500])
        def test_listing_takes_a_bounded_number_of_queries_however_many_rows(
            self, anonymous, django_assert_max_num_queries, rows
        ):
            self.create_objects(rows)

            with django_assert_max_num_queries(self.max_list_queries):
                response = anonymous.get(self.list_url)

            assert len(response.json()) == rows

        def test_anonymous_listing_is_a_401_while_anonymous_reads_are_off(
            self, api_client, settings
        ):
            settings.ANONYMOUS_READ = False

            assert api_client.get(self.list_url).status_code == 401

        def test_a_role_that_may_view_lists_while_anonymous_reads_are_off(
            self, client_as, settings, role_that_may_view
        ):
            settings.ANONYMOUS_READ = False
            self.create_objects(2)

            response = client_as(role_that_may_view).get(self.list_url)

            assert response.status_code == 200
            assert len(response.json()) == 2

        def test_a_user_that_may_not_view_is_refused_a_list_with_403_while_anonymous_reads_are_off(
            self, client_as, settings, role_that_may_not_view
        ):
            settings.ANONYMOUS_READ = False

            assert client_as(role_that_may_not_view).get(self.list_url).status_code == 403

    class CreateObjectViewTestCase(APITestCase):
        """`POST list_url`: 201 with the object and its `Location`, stored; who may."""

        create_data: ClassVar[dict]

        def build_create_data(self) -> dict:
            """A POST body that creates an object."""
            return dict(self.create_data)

        @with_and_without_slash
        def test_creating_answers_201_with_the_new_object_and_stores_it(
            self, client_that_may, slash
        ):
            data = self.build_create_data()

            response = client_that_may("add").post(f"{self.list_url}{slash}", data, format="json")

            assert response.status_code == 201, response.content
            body = response.json()
            assert set(body) == set(self.fields)
            assert {name: body[name] for name in data} == data
            self.assert_stored(body["id"], data)

        @with_and_without_slash
        def test_creating_answers_a_location_that_points_at_the_new_object(
            self, client_that_may, slash
        ):
            client = client_that_may("add")

            response = client.post(
                f"{self.list_url}{slash}", self.build_create_data(), format="json"
            )

            created = response.json()
            assert response["Location"] == f"http://testserver{self.url_of(created['id'])}"
            assert client.get(response["Location"]).json() == created

        def test_a_role_that_may_add_creates(self, client_as, role_that_may_add):
            data = self.build_create_data()

            response = client_as(role_that_may_add).post(self.list_url, data, format="json")

            assert response.status_code == 201, response.content
            self.assert_stored(response.json()["id"], data)

        def test_a_user_that_may_not_add_is_refused_with_403_and_nothing_is_stored(
            self, client_as, role_that_may_not_add
        ):
            data = self.build_create_data()
            before = self.stored_rows()

            response = client_as(role_that_may_not_add).post(self.list_url, data, format="json")

            assert response.status_code == 403
            assert self.stored_rows() == before

        @anonymous_read_on_and_off
        def test_anonymous_creating_is_a_401_and_stores_nothing(
            self, api_client, settings, anonymous_read
        ):
            settings.ANONYMOUS_READ = anonymous_read
            data = self.build_create_data()
            before = self.stored_rows()

            response = api_client.post(self.list_url, data, format="json")

            assert response.status_code == 401
            assert self.stored_rows() == before

    class UpdateObjectViewTestCase(APITestCase):
        """`PUT` and `PATCH detail_url`: 200 and stored; who may."""

        update_data: ClassVar[dict]
        partial_update_data: ClassVar[dict]

        def build_update_data(self, obj: models.Model) -> dict:
            """A PUT body for `obj`: every writable field."""
            return dict(self.update_data)

        def build_partial_update_data(self, obj: models.Model) -> dict:
            """A PATCH body for `obj`: some of its fields, changed."""
            return dict(self.partial_update_data)

        def change_data(self, obj: models.Model, method: str) -> dict:
            if method == "put":
                return self.build_update_data(obj)
            return self.build_partial_update_data(obj)

        @with_and_without_slash
        def test_replacing_answers_200_and_stores_the_new_values(self, client_that_may, slash):
            obj = self.create_object()
            data = self.build_update_data(obj)

            response = client_that_may("change").put(
                self.url_of(obj.pk, slash), data, format="json"
            )

            assert response.status_code == 200, response.content
            body = response.json()
            assert body["id"] == obj.pk
            assert {name: body[name] for name in data} == data
            self.assert_stored(obj.pk, data)

        @with_and_without_slash
        def test_patching_stores_the_given_fields_and_keeps_the_others(
            self, client_that_may, slash
        ):
            obj = self.create_object()
            data = self.build_partial_update_data(obj)
            (before,) = self.model.objects.filter(pk=obj.pk).values()

            response = client_that_may("change").patch(
                self.url_of(obj.pk, slash), data, format="json"
            )

            assert response.status_code == 200, response.content
            self.assert_stored(obj.pk, data)
            (after,) = self.model.objects.filter(pk=obj.pk).values()
            kept = [
                field.attname
                for field in self.model._meta.concrete_fields
                if field.attname not in data and not getattr(field, "auto_now", False)
            ]
            assert {name: after[name] for name in kept} == {name: before[name] for name in kept}

        @CHANGE_METHODS
        def test_a_role_that_may_change_changes(self, client_as, role_that_may_change, method):
            obj = self.create_object()
            data = self.change_data(obj, method)

            response = getattr(client_as(role_that_may_change), method)(
                self.url_of(obj.pk), data, format="json"
            )

            assert response.status_code == 200, response.content
            self.assert_stored(obj.pk, data)

        @CHANGE_METHODS
        def test_a_user_that_may_not_change_is_refused_with_403_and_nothing_changes(
            self, client_as, role_that_may_not_change, method
        ):
            obj = self.create_object()
            data = self.change_data(obj, method)
            before = self.stored_rows()

            response = getattr(client_as(role_that_may_not_change), method)(
                self.url_of(obj.pk), data, format="json"
            )

            assert response.status_code == 403
            assert self.stored_rows() == before

        @anonymous_read_on_and_off
        @CHANGE_METHODS
        def test_anonymous_changing_is_a_401_and_changes_nothing(
            self, api_client, settings, method, anonymous_read
        ):
            settings.ANONYMOUS_READ = anonymous_read
            obj = self.create_object()
            data = self.change_data(obj, method)
            before = self.stored_rows()

            response = getattr(api_client, method)(self.url_of(obj.pk), data, format="json")

            assert response.status_code == 401
            assert self.stored_rows() == before

    class DeleteObjectViewTestCase(APITestCase):
        """`DELETE detail_url`: 204 and gone, or 404 for an unknown id; who may."""

        @with_and_without_slash
        def test_deleting_answers_204_and_removes_it(self, client_that_may, slash):
            obj = self.create_object()

            response = client_that_may("delete").delete(self.url_of(obj.pk, slash))

            assert response.status_code == 204
            assert not self.model.objects.filter(pk=obj.pk).exists()

        def test_deleting_an_unknown_id_is_a_404(self, client_that_may):
            self.create_object()

            response = client_that_may("delete").delete(self.url_of(self.unknown_pk()))

            assert response.status_code == 404
            assert self.model.objects.count() == 1

        def test_a_role_that_may_delete_deletes(self, client_as, role_that_may_delete):
            obj = self.create_object()

            response = client_as(role_that_may_delete).delete(self.url_of(obj.pk))

            assert response.status_code == 204
            assert not self.model.objects.filter(pk=obj.pk).exists()

        def test_a_user_that_may_not_delete_is_refused_with_403_and_nothing_is_deleted(
            self, client_as, role_that_may_not_delete
        ):
            obj = self.create_object()
            before = self.stored_rows()

            response = client_as(role_that_may_not_delete).delete(self.url_of(obj.pk))

            assert response.status_code == 403
            assert self.stored_rows() == before

        @anonymous_read_on_and_off
        def test_anonymous_deleting_is_a_401_and_deletes_nothing(
            self, api_client, settings, anonymous_read
        ):
            settings.ANONYMOUS_READ = anonymous_read
            obj = self.create_object()
            before = self.stored_rows()

            response = api_client.delete(self.url_of(obj.pk))

            assert response.status_code == 401
            assert self.stored_rows() == before

    class APIViewTestCase(
        GetObjectViewTestCase,
        ListObjectsViewTestCase,
        CreateObjectViewTestCase,
        UpdateObjectViewTestCase,
        DeleteObjectViewTestCase,
    ):
        """Every standard endpoint of a resource: list, detail, create, update, delete."""
