import json
import logging

import pytest
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.test import RequestFactory

from core.api.exceptions import (
    ApiErrorMiddleware,
    api_exception_handler,
    error_status_and_detail,
    json_server_error,
)
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound, TooLarge
from inventory.api.views import SprocketViewSet
from inventory.models import Sprocket

API = "/sprocketFactory/v1"
SPROCKETS = f"{API}/sprockets"
VALID_SPROCKET = {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}

pytestmark = pytest.mark.django_db


def assert_json(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


@pytest.mark.parametrize(
    "path",
    [f"{API}/nothing-here", f"{API}/nothing/here/", f"{API}/sprockets/abc", f"{API}/production/x"],
)
def test_an_unknown_path_under_the_api_is_a_json_404(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 404
    assert assert_json(response) == {"detail": "Not found."}


def test_an_unknown_path_under_the_api_is_a_json_404_with_debug_on(api_client, settings):
    settings.DEBUG = True

    response = api_client.get(f"{API}/nothing-here")

    assert response.status_code == 404
    assert assert_json(response) == {"detail": "Not found."}


def test_a_missing_object_is_a_json_404(api_client):
    response = api_client.get(f"{SPROCKETS}/999")

    assert response.status_code == 404
    assert "detail" in assert_json(response)


def test_a_method_the_resource_does_not_have_is_a_json_405(manager):
    response = manager.put(f"{API}/production", {}, format="json")

    assert response.status_code == 405
    assert assert_json(response) == {"detail": 'Method "PUT" not allowed.'}


def test_a_body_of_an_unsupported_media_type_is_a_json_415(manager):
    response = manager.generic("POST", SPROCKETS, "teeth=5", content_type="text/plain")

    assert response.status_code == 415
    assert "text/plain" in assert_json(response)["detail"]
    assert Sprocket.objects.count() == 0


def test_malformed_json_is_a_json_400(manager):
    response = manager.generic("POST", SPROCKETS, '{"teeth": 5,', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in assert_json(response)["detail"]


def test_deeply_nested_unbalanced_json_is_a_400_not_a_500(manager):
    response = manager.generic("POST", SPROCKETS, "[" * 5000, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in assert_json(response)


def test_deeply_nested_balanced_json_is_a_400_not_a_500(manager):
    body = "[" * 5000 + "]" * 5000

    response = manager.generic("POST", SPROCKETS, body, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in assert_json(response)


def test_json_that_is_not_an_object_is_a_json_400(manager):
    response = manager.post(SPROCKETS, [VALID_SPROCKET], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in assert_json(response)


def test_an_anonymous_write_is_a_json_401(api_client):
    response = api_client.post(SPROCKETS, VALID_SPROCKET, format="json")

    assert response.status_code == 401
    assert "detail" in assert_json(response)


def test_the_handler_answers_an_unexpected_error_with_a_generic_json_500():
    response = api_exception_handler(RuntimeError("boom"), {"view": None})

    assert response.status_code == 500
    assert response.data == {"detail": "Internal server error."}


def test_the_handler_logs_an_unexpected_error(caplog):
    with caplog.at_level(logging.ERROR, logger="core.api.exceptions"):
        api_exception_handler(RuntimeError("boom"), {"view": None})

    assert [r.levelno for r in caplog.records if r.name == "core.api.exceptions"] == [logging.ERROR]


def test_the_handler_logs_the_traceback_of_the_error_being_handled(caplog):
    # DRF calls the handler inside its `except` block, as here.
    error = RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="core.api.exceptions"):
        try:
            raise error
        except RuntimeError as raised:
            api_exception_handler(raised, {"view": None})

    (record,) = [r for r in caplog.records if r.name == "core.api.exceptions"]
    assert record.exc_info[1] is error


def test_an_error_escaping_a_view_reaches_the_client_as_json_without_its_message(
    api_client, monkeypatch, settings
):
    settings.DEBUG = True

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(SprocketViewSet, "list", explode)

    response = api_client.get(SPROCKETS)

    assert response.status_code == 500
    assert assert_json(response) == {"detail": "Internal server error."}
    assert b"boom" not in response.content


def test_an_error_escaping_a_view_is_logged_with_its_traceback(api_client, monkeypatch, caplog):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(SprocketViewSet, "list", explode)

    with caplog.at_level(logging.ERROR, logger="core.api.exceptions"):
        api_client.get(SPROCKETS)

    (record,) = [r for r in caplog.records if r.name == "core.api.exceptions"]
    assert str(record.exc_info[1]) == "boom: secret internals"


def test_the_handler_answers_a_protected_delete_with_409():
    response = api_exception_handler(ProtectedError("refers", set()), {"view": None})

    assert response.status_code == 409
    assert "detail" in response.data


def test_the_handler_answers_an_integrity_error_with_409_without_the_database_message():
    response = api_exception_handler(
        IntegrityError('duplicate key value violates "secret_index"'), {"view": None}
    )

    assert response.status_code == 409
    assert "secret_index" not in response.data["detail"]


@pytest.mark.parametrize(
    ("error", "status"),
    [(InvalidInput, 400), (NotAllowed, 403), (NotFound, 404), (Conflict, 409), (TooLarge, 413)],
)
def test_the_handler_answers_each_domain_error_with_its_status_and_message(error, status):
    response = api_exception_handler(error("Why it was refused."), {"view": None})

    assert response.status_code == status
    assert response.data == {"detail": "Why it was refused."}


def test_the_handler_answers_a_domain_error_with_messages_by_item_as_that_mapping():
    detail = {"3": {"time": ["Enter a time."]}, "detail": "1 error in all."}

    response = api_exception_handler(InvalidInput(detail), {"view": None})

    assert response.status_code == 400
    assert response.data == detail


def test_a_subclass_of_a_domain_error_is_answered_with_its_parent_status():
    class FactoryGone(NotFound):
        pass

    assert error_status_and_detail(FactoryGone("Gone.")) == (404, "Gone.")


def test_an_unexpected_error_is_audited_as_a_500_without_its_message():
    assert error_status_and_detail(RuntimeError("secret")) == (500, "Internal server error.")


@pytest.mark.parametrize(
    "query",
    [
        "production/summary?tz=100%25",
        "production/summary?tz=%25s%25d&factory_id=%25",
        "production?after=%25s&factory_id=%25d",
        "sprockets?teeth=%25&contains=%25%25",
        "factories?is_active=%25s",
    ],
)
def test_a_percent_sign_in_a_bad_query_value_is_a_400_naming_it_not_a_500(api_client, query):
    response = api_client.get(f"{API}/{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_the_server_error_handler_answers_json_under_the_api():
    response = json_server_error(RequestFactory().get(f"{API}/sprockets"))

    assert response.status_code == 500
    assert assert_json(response) == {"detail": "Internal server error."}


def test_the_middleware_answers_an_error_outside_drf_as_json_under_the_api(caplog):
    middleware = ApiErrorMiddleware(get_response=lambda request: None)

    with caplog.at_level(logging.ERROR, logger="core.api.exceptions"):
        response = middleware.process_exception(
            RequestFactory().get(f"{API}/sprockets"), RuntimeError("boom")
        )

    assert response.status_code == 500
    assert assert_json(response) == {"detail": "Internal server error."}
    assert b"boom" not in response.content


def test_the_middleware_leaves_errors_outside_the_api_to_django():
    middleware = ApiErrorMiddleware(get_response=lambda request: None)

    assert middleware.process_exception(RequestFactory().get("/admin/"), RuntimeError()) is None
