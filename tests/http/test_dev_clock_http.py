"""The movable clock over HTTP: `/dev/clock` moves the container's clock forward and runs
what fell due at once; it refuses to go back; it is absent in production."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.clock import OffsetClock
from infrastructure.settings import Settings
from interfaces.http.dev_clock import format_duration, parse_duration
from tests.http.conftest import API, Api
from tests.http.test_bookings_http import Market, MarketFactory, code, open_listing
from tests.http.test_verification_http import refused

CLOCK = f"{API}/dev/clock"


@pytest.fixture
def market(api: Api) -> MarketFactory:
    def make(**overrides: object) -> Market:
        owner, admin, renter = api.new_user(), api.admin(), api.new_user()
        return Market(api, owner, admin, renter, open_listing(api, owner, admin, **overrides))

    return make


def test_the_container_clock_is_one_movable_clock_shared_by_every_component(api: Api) -> None:
    clock = api.container.clock
    assert isinstance(clock, OffsetClock)
    assert clock.now() == api.clock.now()  # no offset yet: the wrapped clock's time
    wiring = api.container.payments_wiring
    assert wiring is not None and wiring.payments.clock == clock.now
    assert api.container.rate_limiter._clock is clock  # type: ignore[attr-defined]


def test_get_says_the_offset_and_now(api: Api) -> None:
    r = api.client.get(CLOCK)
    assert r.status_code == 200, r.text
    assert r.json()["offset"] == "PT0S" and r.json()["offset_seconds"] == 0
    assert datetime.fromisoformat(r.json()["now"]) == api.clock.now()


def test_advancing_past_the_hold_expires_an_unpaid_booking(api: Api, market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    start = api.clock.now()
    r = api.client.post(CLOCK, json={"advance": "PT26H"}, headers=m.renter.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["offset"] == "P1DT2H" and body["offset_seconds"] == 26 * 3600
    assert datetime.fromisoformat(body["now"]) == start + timedelta(hours=26)
    position = r.headers["X-Rentbook-Position"]
    assert int(position) == api.container.store.current_position()
    # The expiry ran synchronously: the read model has it at the answered position.
    mine = api.client.get(
        f"{API}/me/bookings",
        params={"role": "renter"},
        headers=m.renter.headers | {"X-Rentbook-Min-Position": position},
    )
    assert mine.status_code == 200, mine.text
    [row] = [b for b in mine.json()["data"] if b["id"] == booking_id]
    assert row["status"] == "cancelled"
    assert m.get(booking_id).json()["status"] == "cancelled"
    assert m.free_units(30, 32) == [1, 1]
    assert api.client.get(CLOCK).json()["offset_seconds"] == 26 * 3600


def test_the_clock_moves_only_forward_and_garbage_is_422(api: Api) -> None:
    user = api.new_user()
    before = api.container.store.current_position()
    for advance in ("-PT1H", "PT0S", "-P1D"):
        r = api.client.post(CLOCK, json={"advance": advance}, headers=user.headers)
        refused(api, r, 422, "clock_not_forward")
    for bad in ("26h", "P1Y", "P", "PT", "soon", "", "PT1.5H", 3600, None):
        r = api.client.post(CLOCK, json={"advance": bad}, headers=user.headers)
        refused(api, r, 422, "validation_failed")
    r = api.client.post(CLOCK, json={"advance": "P3651D"}, headers=user.headers)
    refused(api, r, 422, "clock_too_far")
    assert api.client.get(CLOCK).json()["offset_seconds"] == 0
    assert api.container.store.current_position() == before


def test_moving_the_clock_needs_a_session(api: Api) -> None:
    r = api.client.post(CLOCK, json={"advance": "PT1H"})
    assert r.status_code == 401
    assert api.client.get(CLOCK).json()["offset_seconds"] == 0


def test_the_clock_endpoints_are_absent_in_production(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = api.new_user()
    production = Settings.model_construct(
        **{**api.container.settings.model_dump(), "environment": "production"}
    )
    monkeypatch.setattr(api.container, "settings", production)
    assert api.client.get(CLOCK).status_code == 404
    r = api.client.post(CLOCK, json={"advance": "PT1H"}, headers=user.headers)
    assert r.status_code == 404 and code(r) == "not_found"
    assert api.container.clock.now() == api.clock.now()


def test_the_clock_endpoints_are_absent_without_the_simulated_gateway(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = api.new_user()
    monkeypatch.setattr(api.container, "gateway", object())
    assert api.client.get(CLOCK).status_code == 404
    r = api.client.post(CLOCK, json={"advance": "PT1H"}, headers=user.headers)
    assert r.status_code == 404


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_an_iso_duration_round_trips(delta: timedelta) -> None:
    whole = timedelta(seconds=int(delta.total_seconds()))
    assert parse_duration(format_duration(whole)) == whole


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_advancing_walks_a_paid_stay_through_start_end_and_completion(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    booking_id = m.paid(30, 32)["id"]  # nights 30 and 31 from today

    def advance(duration: str) -> str:
        r = api.client.post(CLOCK, json={"advance": duration}, headers=m.renter.headers)
        assert r.status_code == 200, r.text
        return str(r.headers["X-Rentbook-Position"])

    for _ in range(5):  # steps shorter than a session's 7 idle days, as a person would
        advance("P6D")
    # Past the end: start and end both run, the second round seeing the first's events.
    advance("P3D")
    assert m.get(booking_id).json()["status"] == "awaiting_return_inspection"
    # What fell due runs at the new now, as after a scheduler outage: the 48 h
    # inspection window opened then, so completion needs another advance.
    advance("P2DT1H")
    assert m.get(booking_id).json()["status"] in ("completed", "settled")


def test_advancing_runs_the_payments_tick_at_the_new_now(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiring = api.container.payments_wiring
    assert wiring is not None
    ticks: list[datetime] = []
    monkeypatch.setattr(wiring.payments, "run_due", lambda at: ticks.append(at) or 0)
    user = api.new_user()
    r = api.client.post(CLOCK, json={"advance": "P1D"}, headers=user.headers)
    assert r.status_code == 200, r.text
    # The in-process payments thread may tick too (at either time): the request's tick is there.
    assert api.clock.now() + timedelta(days=1) in ticks
