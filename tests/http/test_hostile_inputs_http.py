"""Hand-written hostile inputs (`tests/http/hostile_inputs*.py`) against one app of their
own: each is a 4xx problem response and changes nothing, never a 500.

API.md: "Bad input gets a clear 4xx problem response and changes nothing; never a 500."
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infrastructure.bootstrap import Container
from infrastructure.settings import Settings
from tests.fakes import FakeClock
from tests.http.conftest import API, Api, _running_container, https_client, make_app
from tests.http.fuzz_world import PROBLEM, Fuzz, recorded_by
from tests.http.hostile_inputs import HOSTILE as HOSTILE_FIRST
from tests.http.hostile_inputs_more import HOSTILE_MORE

HOSTILE = HOSTILE_FIRST + HOSTILE_MORE


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    """A world of its own, untouched by the fuzz above, so each case meets known states."""
    settings_ = Settings(
        environment="test", data_dir=Path(tmp_path_factory.mktemp("hostile")) / "v"
    )
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    containers = _running_container(settings_, clock)
    container: Container = next(containers)
    try:
        with https_client(make_app(container)) as client:
            yield Fuzz(Api(client, container, clock))
    finally:
        containers.close()


# Edge values that a correct API may also accept (the far ends of the calendar, cursors that
# decode to nothing useful, a query that percent-decodes with replacement characters): for
# these, never a 5xx; when refused, the same problem-and-no-change rules hold.
ACCEPTABLE = frozenset(
    {
        "calendar at year 9999",
        "hourly calendar at year 9999",
        "hourly calendar at year 1",
        "block at year 9999",
        "price at year 9999",
        "audit from year 1",
        "audit to year 9999",
        "state at year 1",
        "state at year 9999",
        "invalid percent-encoding in query",
        "cursor offset huge int",
        "events cursor forged",
        "naive audit instant",
        "naive state instant",
    }
)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, id_ in ids.items():
            value = value.replace("{" + name + "}", id_)
        return value
    if isinstance(value, bytes):
        for name, id_ in ids.items():
            value = value.replace(("{" + name + "}").encode(), id_.encode())
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


# 500s found but not fixed here: their cause lies outside the HTTP and domain validation this
# change may touch. Strict, so the test says so once they are fixed.


@pytest.mark.parametrize("role", ["user", "admin"])
@pytest.mark.parametrize(("name", "method", "path", "kwargs"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_a_4xx_problem_and_changes_nothing(
    request: pytest.FixtureRequest,
    hostile: Fuzz,
    name: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    role: str,
) -> None:
    known = hostile.known
    ids = {
        "own": known["listing_id"][0],
        "listing": known["listing_id"][1],
        "hourly": known["listing_id"][2],
        "booking": known["booking_id"][0],
        "payment": known["payment_id"][0],
    }
    today = hostile.api.clock.now().date()
    ids.update({f"d{n}": str(today + timedelta(days=40 + n)) for n in (1, 2, 3)})
    who = hostile.user if role == "user" else hostile.admin
    request = _fill(kwargs, ids)
    headers = {**request.pop("headers", {}), **who.headers}
    if "content" in request and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    store = hostile.api.container.store
    before = store.current_position()
    response = hostile.api.client.request(
        method, f"{API}{_fill(path, ids)}", headers=headers, **request
    )
    if name in ACCEPTABLE:
        assert response.status_code < 500, response.text[:2000]
        if response.status_code < 400:
            return
    assert 400 <= response.status_code < 500, response.text[:2000]
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body = response.json()
    assert body["status"] == response.status_code and body["detail"], body
    assert not recorded_by(store, before, response), "a refused request recorded events"
