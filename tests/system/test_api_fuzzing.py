"""Schemathesis against the running service: every operation of the published schema, with
data that fits the schema and data that does not, as a manager so that writes go through.

A fixed seed and a fixed number of examples per operation keep the run reproducible and
bounded: about 2,200 requests in under a minute. The service is one of its own (database and
Redis), since the fuzzer leaves odd data behind and spends the login throttle.
"""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.system.conftest import ROOT, PrivateRedis, Service, running_service

API = "/sprocketFactory/v1"
SEED = 20260612
EXAMPLES = 40  # per operation and generation mode
MIN_REQUESTS = 1000
# Ids the seed data (and the fuzzer's own creates) give to every resource.
KNOWN_IDS = range(1, 9)
REPORT = ROOT / "test-artifacts" / "api-fuzzing.txt"
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# What a rejection of bad data may answer: schemathesis's list, plus the body limits' 411 and
# 413 and the request line's 414.
REJECTIONS = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "411",
    "413",
    "414",
    "415",
    "422",
    "429",
]


def negative_data_rejection_outside_forms(ctx, response, case):
    """negative_data_rejection, but not for a negated form body: a form carries every value as
    a string and DRF reads an empty form field as not given, so such a body arrives valid."""
    body = case.meta.components.get(ParameterLocation.BODY) if case.meta else None
    if case.media_type in FORM_MEDIA_TYPES and body is not None and body.mode.is_negative:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection_outside_forms,
]


@pytest.fixture(scope="module")
def fuzzed_service(private_postgres) -> Iterator[Service]:
    redis = PrivateRedis()
    redis.start()
    try:
        # An event stream ends once it has opened, instead of after an hour.
        with running_service(private_postgres, redis, EVENTS_STREAM_SECONDS="0") as running:
            yield running
    finally:
        redis.stop()


@dataclass
class FuzzRun:
    """Sends cases, counts them and keeps every failed check instead of stopping at the first."""

    service: Service
    tokens: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)
    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def send(self, case, mode: GenerationMode) -> None:
        # Logging out revokes the token it is sent with: that operation gets a token of its own.
        logout = case.operation.path.startswith(f"{API}/auth/logout")
        headers = {"Authorization": f"Token {self.tokens['logout' if logout else 'manager']}"}
        response = case.call(
            base_url=self.service.base_url, session=self.session, headers=headers, timeout=30
        )
        self.requests[case.operation.label] += 1
        self.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failed:
            message = str(failed)
            for token in self.tokens.values():
                message = message.replace(token, "[token]")
            self.failures.append(f"{case.operation.label} ({mode.value})\n{message}")

    def report(self, seconds: float) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        per_operation = "\n".join(f"{n:5} {label}" for label, n in self.requests.items())
        return "\n\n".join(
            [
                f"seed {SEED}, {EXAMPLES} examples per operation and mode, {seconds:.0f} s",
                f"{self.requests.total()} requests; statuses {statuses}",
                per_operation,
                f"{len(self.failures)} failures",
                *self.failures,
            ]
        )


def cases(operation, mode: GenerationMode):
    """The operation's cases; most positive ones name an id that may exist, since a random id
    almost never does and PUT, PATCH and DELETE would only ever see 404."""
    generated = operation.as_strategy(generation_mode=mode)
    names = [parameter.name for parameter in operation.path_parameters]
    if mode is GenerationMode.NEGATIVE or not names:
        return generated
    known = [
        operation.as_strategy(generation_mode=mode, path_parameters=dict.fromkeys(names, i))
        for i in KNOWN_IDS
    ]
    return st.one_of(generated, *known)


def fuzz(run: FuzzRun, operation, mode: GenerationMode) -> None:
    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        # Generate only: no example database, no shrinking (failures are kept, not raised).
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=cases(operation, mode))
    def send(case) -> None:
        run.send(case, mode)

    send()


def post(service: Service, token: str, path: str, body) -> dict:
    response = requests.post(
        service.url(API + path), json=body, headers={"Authorization": f"Token {token}"}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()


def seed_data(service: Service, token: str) -> None:
    """A few factories, sprocket types and production records for the fuzzer to find."""
    post(service, token, "/factories/bulk", [{"name": f"Fuzz factory {i}"} for i in range(3)])
    post(
        service,
        token,
        "/sprockets/bulk",
        [
            {"teeth": 10 + i, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}
            for i in range(3)
        ],
    )
    post(
        service,
        token,
        "/production/bulk",
        [
            {
                "factory_id": 1 + i % 3,
                "sprocket_production_actual": 10 * i,
                "sprocket_production_goal": 12 * i,
                "time": 1_611_194_818 + 60 * i,
            }
            for i in range(12)
        ],
    )


def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(
    fuzzed_service,
):
    tokens = {
        "manager": fuzzed_service.token("manager", "fuzz-manager"),
        "logout": fuzzed_service.token("viewer", "fuzz-logout"),
    }
    seed_data(fuzzed_service, tokens["manager"])
    # An explicit configuration, so that no schemathesis.toml lying around changes the run.
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
    )
    schema = schemathesis.openapi.from_url(
        fuzzed_service.url(f"{API}/schema?format=json"), config=config
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    run = FuzzRun(service=fuzzed_service, tokens=tokens)

    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(run, operation, mode)
    report = run.report(time.monotonic() - started)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(report + "\n")

    assert len(operations) >= 28
    assert [op.label for op in operations if not run.requests[op.label]] == []
    assert run.requests.total() >= MIN_REQUESTS
    assert not [code for code in run.statuses if code >= 500], report
    assert run.failures == [], report


@pytest.mark.parametrize("bucket", ["hour", "day", "week", "month"])
def test_a_summary_at_either_end_of_the_calendar_is_answered(fuzzed_service, bucket):
    # Found by the fuzzer: a bucket ending after 9999-12-31 was a 500 (OverflowError).
    token = fuzzed_service.token("manager", "fuzz-manager")
    factory_id = post(fuzzed_service, token, "/factories", {"name": f"Calendar ends {bucket}"})[
        "id"
    ]
    post(
        fuzzed_service,
        token,
        "/production/bulk",
        [
            {
                "factory_id": factory_id,
                "sprocket_production_actual": actual,
                "sprocket_production_goal": 1,
                "time": at,
            }
            for actual, at in [(2, "0001-01-01T00:00:00Z"), (3, "9999-12-31T23:59:59Z")]
        ],
    )

    def summary(query: str) -> requests.Response:
        return requests.get(
            fuzzed_service.url(
                f"{API}/production/summary?bucket={bucket}&factory_id={factory_id}&{query}"
            ),
            timeout=30,
        )

    first = summary("before=0001-01-02")
    last = summary("after=9999-12-31")
    too_far_east = summary("after=9999-12-31&tz=Pacific/Kiritimati")

    assert first.status_code == 200, first.text
    assert first.json()[-1]["sprocket_production_actual"] == 2
    assert last.status_code == 200, last.text
    assert last.json()[-1]["sprocket_production_actual"] == 3
    # Its local buckets begin in year 10000, which no ISO 8601 label can name.
    assert too_far_east.status_code == 400
    assert "detail" in too_far_east.json()


# --- what the fuzzer found, pinned down ---------------------------------------------------------


def test_a_method_no_operation_has_is_a_json_405_on_every_path(fuzzed_service):
    # Found by the fuzzer: bulk views have no model to name a permission after (a 500).
    token = fuzzed_service.token("manager", "fuzz-manager")
    paths = requests.get(fuzzed_service.url(f"{API}/schema?format=json"), timeout=30).json()
    urls = [
        fuzzed_service.url(path.replace("{id}", "1").replace("{factory_id}", "1"))
        for path in paths["paths"]
        # The login throttle, spent by the fuzzer, answers there before the method is read.
        if not path.endswith("/auth/token/")
    ]

    answers = {
        url: requests.request("TRACE", url, headers={"Authorization": f"Token {token}"}, timeout=30)
        for url in urls
    }

    assert {url: a.status_code for url, a in answers.items()} == dict.fromkeys(urls, 405)
    assert all(a.headers["Content-Type"] == "application/json" for a in answers.values())


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_options_on_an_api_viewer_is_a_405(fuzzed_service, page):
    # Found by the fuzzer: Swagger UI's template cannot render DRF's OPTIONS metadata (a 500).
    response = requests.options(fuzzed_service.url(f"{API}/{page}"), timeout=30)

    assert response.status_code == 405


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_to_an_unknown_path_is_a_json_404(fuzzed_service, method):
    # Found by the fuzzer: the catch-all 404 ran the CSRF check, whose failure page is HTML.
    response = requests.request(method, fuzzed_service.url(f"{API}/sprockets/x"), timeout=30)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_bulk_item_with_a_nul_in_an_unknown_field_name_is_a_400(fuzzed_service):
    # Found by the fuzzer: the failure's audit copy could not be stored in jsonb (a 500).
    token = fuzzed_service.token("manager", "fuzz-manager")

    response = requests.post(
        fuzzed_service.url(f"{API}/sprockets/bulk"),
        json=[{"na\u0000me": "x"}],
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )

    assert response.status_code == 400
    assert "na\u0000me" in response.json()["0"]
