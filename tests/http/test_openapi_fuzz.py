"""Schemathesis against the served OpenAPI document (the hand-written hostile inputs are in
`test_hostile_inputs_http.py`, on the same `Fuzz` world of their own).

API.md: "Bad input gets a clear 4xx problem response and changes nothing; never a 500."

Every operation of `/api/v1/openapi.json` is fuzzed as a plain user and as an admin (each
generated case is sent as both), with positive (schema-valid) and negative
(schema-violating) data, on the embedded default (SQLite, cheap argon2, rate limits off).
Checks on every response:
- `not_a_server_error` (no 5xx at all: nothing here lags or is down, so not even a 503);
- a 4xx is an RFC 9457 problem: `application/problem+json` with type/title/status/detail/code
  and `status` equal to the HTTP status;
- the status code is one the operation documents, or one of the cross-cutting answers API.md
  gives every endpoint (401/403/404/409/412/422/423/429);
- 2xx bodies and content types conform to the operation's documented response schema.

Bounded and deterministic: `derandomize=True`, no example database, `MAX_EXAMPLES` per
operation and generation mode. Nothing is excluded; operations that need care (logout
would end the fuzzing session) get a throwaway session per example instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from infrastructure.bootstrap import Container
from infrastructure.settings import Settings
from interfaces.http.app import create_app
from tests.fakes import FakeClock
from tests.http.conftest import (
    API,
    Api,
    Auth,
    _running_container,
    https_client,
    make_app,
)
from tests.http.fuzz_world import PROBLEM, Fuzz, recorded_by

MAX_EXAMPLES = 12  # per operation x generation mode, each sent as both roles
OPENAPI_PATH = f"{API}/openapi.json"
# Above the client's default 10 s for a loaded CI machine; no request builds the places
# index any more (120 s while the first /places request did).
REQUEST_S = 30
# API.md's cross-cutting answers, which any operation may give whatever its own responses list.
CROSS_CUTTING = frozenset({401, 403, 404, 409, 412, 422, 423, 429})
# Generic HTTP refusals the framework gives any operation: 400 for a body that cannot be parsed
# at all (e.g. not UTF-8), 405, 413, 415.
GENERIC_4XX = frozenset({400, 405, 413, 415})


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the app documents; the app is built without a
    container (nothing runs), just to read its OpenAPI document at collection time."""
    spec = create_app().openapi()
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "options", "head"}
    )


OPERATIONS = _operations()


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    settings_ = Settings(environment="test", data_dir=Path(tmp_path_factory.mktemp("fuzz")) / "v")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    containers = _running_container(settings_, clock)
    container: Container = next(containers)
    try:
        with https_client(make_app(container)) as client:
            fuzz = Fuzz(Api(client, container, clock))
            yield fuzz
            print(f"\nopenapi fuzz: {fuzz.sent} requests sent")  # shown with -s
    finally:
        containers.close()


@pytest.fixture(autouse=True)
def _asgi_lifespans_end_with_each_test() -> Iterator[None]:
    # What schemathesis' pytest plugin did after every test; the plugin is off (pyproject's
    # `-p no:schemathesis`: nothing here uses it, and every pytest process paid its import).
    yield
    shutdown_lifespans()


@pytest.fixture(scope="module")
def schema(fuzz: Fuzz) -> Any:
    """The document the app serves, loaded over ASGI like any client would."""
    loaded = schemathesis.openapi.from_asgi(OPENAPI_PATH, fuzz.api.app)
    return loaded


# -- checks ------------------------------------------------------------------------------------


def _documented_statuses(case: Any) -> set[str]:
    return {str(code) for code in case.operation.definition.raw.get("responses", {})}


def check_problem_and_status(response: Any, case: Any) -> None:
    status = response.status_code
    documented = _documented_statuses(case)
    allowed = (
        str(status) in documented
        or f"{status // 100}XX" in documented
        or status in CROSS_CUTTING | GENERIC_4XX
    )
    assert allowed, f"{status} is neither documented ({sorted(documented)}) nor cross-cutting"
    if 400 <= status < 500:
        content_type = response.headers.get("content-type", "")
        if isinstance(content_type, list):
            content_type = content_type[0]
        assert content_type.split(";")[0].strip() == PROBLEM, content_type
        body = json.loads(response.content)
        for field in ("type", "title", "status", "detail", "code"):
            assert field in body, f"problem without {field!r}: {body}"
        assert body["status"] == status, body


def _is_success(response: Any) -> bool:
    return 200 <= int(response.status_code) < 300


# -- the fuzz ----------------------------------------------------------------------------------


def _substitute_known(case: Any, fuzz: Fuzz, pick: int) -> None:
    """Swap generated path parameters for ids of real resources (`pick` chooses which)."""
    params = case.path_parameters or {}
    for name in list(params):
        candidates = fuzz.known.get(name) or []
        if candidates:
            params[name] = candidates[pick % len(candidates)]


ZONES = ("Europe/Lisbon", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Kiritimati")


def _deepen(case: Any, pick: int) -> None:
    """Generated time zones are random strings the domain refuses first (`bad_timezone`),
    hiding every later rule; swap in real zones so listing bodies reach those rules too."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("location"), dict):
        body["location"]["timezone"] = ZONES[pick % len(ZONES)]


def _token_for(fuzz: Fuzz, who: Auth, method: str, path: str) -> str:
    if (method, path) == ("POST", f"{API}/auth/logout"):
        # Logging out ends the session it is sent with: use a fresh one so the rest of the
        # fuzz keeps its own session (the operation is still fuzzed, with a real session).
        return fuzz.api.login(who.email).token
    return who.token


def _is_event_stream(case: Any) -> bool:
    ok = case.operation.definition.raw.get("responses", {}).get("200", {})
    return "text/event-stream" in ok.get("content", {})


def _exercise(fuzz: Fuzz, case: Any, who: Auth, pick: int) -> None:
    """Sends one case with the role's Bearer token and applies every check."""
    method, path = case.operation.method.upper(), case.operation.path
    if pick < 3:  # half the examples reach real resources
        _substitute_known(case, fuzz, pick)
    if pick % 2 == 0:
        _deepen(case, pick)
    if (method, path) == ("DELETE", f"{API}/admin/users/{{user_id}}") and pick < 3:
        # Erasing a known user would end the fuzz's own accounts: erase a throwaway one.
        (case.path_parameters or {})["user_id"] = fuzz.api.new_user().id
    token = _token_for(fuzz, who, method, path)
    if _is_event_stream(case):  # a live stream never ends: fuzz its finite replay instead
        case.query = {**(case.query or {}), "live": "false"}
    store = fuzz.api.container.store
    if path.startswith(f"{API}/places"):
        # Built before the request, as `rentbook serve` does at start-up: the first /places
        # request building the index took >10 s on a busy machine (no answer is not a 500).
        fuzz.api.container.places.load()
    with get_client(fuzz.api.app) as session:
        before = store.current_position()
        response = case.call(
            session=session, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_S
        )
    fuzz.sent += 1
    try:
        case.validate_response(response, checks=[not_a_server_error])
        check_problem_and_status(response, case)
        if _is_success(response):
            case.validate_response(
                response, checks=[response_schema_conformance, content_type_conformance]
            )
        if response.status_code >= 400:
            assert not recorded_by(store, before, response), "a refused request recorded events"
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{case.as_curl_command()}\n{response.text}") from exc


def _coverage_cases(schema: Any, operation: Any) -> list[Any]:
    """Schemathesis' deterministic coverage phase: boundary values (min-1, max+1, huge
    numbers), missing required fields, wrong types, for each parameter and body field."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    return list(
        schema.iter_coverage_cases(
            operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=config,
        )
    )


def _as_each_role(fuzz: Fuzz, case: Any, pick: int) -> None:
    """Sends one generated case as the plain user, then as the admin. Both roles used to
    generate their own cases, and generation is most of the fuzz's CPU; derandomized, they
    drew the same ones (the same Hypothesis examples, and all but the coverage phase's few
    random values), so each case is now generated once and sent as both."""
    for who in (fuzz.user, fuzz.admin):
        # `_exercise` edits the case in place: each role gets its own copy of the request.
        _exercise(fuzz, case.derive(keep_auth=True), who, pick)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_never_answers_500(fuzz: Fuzz, schema: Any, method: str, path: str) -> None:
    operation = schema[path][method]

    for index, case in enumerate(_coverage_cases(schema, operation)):
        _as_each_role(fuzz, case, index % 6)

    def run(mode: GenerationMode) -> None:
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first hit
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 5))
        def fuzz_one(case: Any, pick: int) -> None:
            _as_each_role(fuzz, case, pick)

        fuzz_one()

    run(GenerationMode.POSITIVE)
    try:
        run(GenerationMode.NEGATIVE)
    except Unsatisfiable:
        # Only for operations whose every input is an unconstrained string (e.g. the
        # projection `name` in the path) or that take none: nothing can violate the schema.
        # The positive run and the coverage cases above still exercised them.
        raw = operation.definition.raw
        assert not raw.get("requestBody"), "negative bodies must always be possible"


def test_every_served_operation_is_fuzzed(schema: Any) -> None:
    served = sorted(
        (op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())
    )
    assert served == OPERATIONS
