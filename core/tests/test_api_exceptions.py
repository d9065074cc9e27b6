"""Django's refusals of a request it will not read are the 4xx Django answers them with, also
when a DRF view meets them (there they would otherwise be a 500)."""

import json

import pytest
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.test import RequestFactory

from core.api.exceptions import api_exception_handler, json_bad_request

REFUSALS = [
    (TooManyFieldsSent("too many"), 400, "DATA_UPLOAD_MAX_NUMBER_FIELDS"),
    (TooManyFilesSent("too many"), 400, "DATA_UPLOAD_MAX_NUMBER_FILES"),
    (RequestDataTooBig("too big"), 413, "DATA_UPLOAD_MAX_MEMORY_SIZE"),
]


@pytest.mark.parametrize(("error", "status", "setting"), REFUSALS)
def test_the_handler_answers_a_django_limit_with_its_status_naming_the_setting(
    error, status, setting
):
    response = api_exception_handler(error, {"view": None})

    assert response.status_code == status
    assert setting in response.data["detail"]


def test_the_handler_names_the_value_of_the_limit(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 12

    response = api_exception_handler(TooManyFieldsSent("too many"), {"view": None})

    assert "12" in response.data["detail"]


@pytest.mark.parametrize("error", [DisallowedHost("evil.example"), BadRequest("why")])
def test_the_handler_answers_another_suspicious_request_with_a_400_not_echoing_it(error):
    response = api_exception_handler(error, {"view": None})

    assert response.status_code == 400
    assert response.data == {"detail": "Bad request."}


@pytest.mark.parametrize(("error", "status", "setting"), REFUSALS)
def test_django_s_400_page_under_the_api_names_the_limit_too(error, status, setting):
    request = RequestFactory().get("/sprocketFactory/v1/sprockets")

    response = json_bad_request(request, error)

    assert response.status_code == status
    assert setting in json.loads(response.content)["detail"]


def test_django_s_400_page_under_the_api_for_anything_else_says_bad_request():
    request = RequestFactory().get("/sprocketFactory/v1/sprockets")

    response = json_bad_request(request, DisallowedHost("evil.example"))

    assert response.status_code == 400
    assert json.loads(response.content) == {"detail": "Bad request."}
