"""Check-in and check-out over HTTP (embedded default): the lifecycle moves, reports in the
booking and the bookings view, the inspection deadline from the check-out, damage claims
citing report items, photos through the MediaCatalog port, and refusals that record nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import Response

from application.ports import MediaCatalog
from domain.event_meta import event_meta
from projections.deadlines import ViewDeadlineSource
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, code, open_listing
from tests.http.test_disputes_http import DEPOSIT, _authorize_deposit, _status_becomes

SOFA_OK = {"name": "Sofa", "status": "ok", "note": "Clean", "photo_ids": []}
SOFA_BURNT = {"name": "Sofa", "status": "damaged", "note": "Burn mark", "photo_ids": []}


@dataclass
class Stay:
    """A paid booking (deposit held) of nights 30-32 from the test's start."""

    m: Market
    booking: dict[str, Any]

    @property
    def api(self) -> Api:
        return self.m.api

    @property
    def id(self) -> str:
        return str(self.booking["id"])

    @property
    def start_at(self) -> datetime:
        return datetime.fromisoformat(self.booking["deadlines"]["start_at"])

    @property
    def end_at(self) -> datetime:
        return datetime.fromisoformat(self.booking["deadlines"]["end_at"])

    def at(self, when: datetime) -> None:
        """Moves the clock; sessions from a month earlier have expired, so log in again."""
        self.api.clock.set(when)
        m = self.m
        self.m = Market(
            self.api,
            self.api.login(m.owner.email),
            self.api.login(m.admin.email),
            self.api.login(m.renter.email),
            m.listing_id,
        )

    def send(self, action: str, auth: Auth, body: Any = None, **headers: str) -> Response:
        url = f"{API}/bookings/{self.id}/{action}"
        return self.api.client.post(url, json=body, headers=auth.headers | headers)

    def ok(self, action: str, auth: Auth, body: Any = None) -> dict[str, Any]:
        r = self.send(action, auth, body)
        assert r.status_code == 200, r.text
        booking: dict[str, Any] = r.json()
        return booking

    def get(self) -> dict[str, Any]:
        r = self.m.get(self.id)
        assert r.status_code == 200, r.text
        booking: dict[str, Any] = r.json()
        return booking


StayFactory = Callable[..., Stay]


def make_stay(api: Api, **listing: Any) -> Stay:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = open_listing(api, owner, admin, deposit=DEPOSIT, **listing)
    m = Market(api, owner, admin, renter, listing_id)
    booking = m.paid(30, 32)
    _authorize_deposit(api, booking["payment_id"])
    return Stay(m, booking)


@pytest.fixture
def stay(api: Api) -> StayFactory:
    return lambda **listing: make_stay(api, **listing)


def recorded_by(api: Api, before: int, response: Response) -> list[Any]:
    """Events recorded since `before` on behalf of this response's request."""
    request_id = response.headers["X-Request-Id"]
    store = api.container.store
    notes = store.recorder.select_notifications(before, 10_000, inclusive_of_start=False)
    events = (store.mapper.to_domain_event(n) for n in notes)
    return [e for e in events if event_meta(e).get("request_id") == request_id]


def caught_up(api: Api) -> dict[str, str]:
    return {"X-Rentbook-Min-Position": str(api.container.store.current_position())}


# -- the lifecycle ----------------------------------------------------------------------------


def test_check_in_starts_and_check_out_ends_the_stay_with_reports_on_both_sides(
    stay: StayFactory,
) -> None:
    s = stay()
    s.at(s.start_at - timedelta(hours=3))  # early, within the default 24 h grace
    r = s.send("check-in", s.m.renter, {"report": {"items": [SOFA_OK]}})
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Rentbook-Position"]) > 0 and r.headers["ETag"]
    body = r.json()
    assert body["status"] == "in_progress"
    renter_in = body["check_ins"]["renter"]
    assert renter_in["by"] == s.m.renter.id
    assert datetime.fromisoformat(renter_in["at"]) == s.start_at - timedelta(hours=3)
    assert renter_in["report"]["items"] == [SOFA_OK | {"photo_urls": []}]
    # The owner checks in too, with API.md's spelling (items at the top level).
    body = s.ok("check-in", s.m.owner, {"items": [SOFA_OK]})
    assert set(body["check_ins"]) == {"renter", "owner"} and body["status"] == "in_progress"

    left = s.end_at - timedelta(hours=2)
    s.at(left)
    body = s.ok("check-out", s.m.renter)  # no report at all
    assert body["status"] == "awaiting_return_inspection"
    assert body["check_outs"]["renter"]["report"] is None
    assert datetime.fromisoformat(body["deadlines"]["inspection_ends_at"]) == left + timedelta(
        hours=48
    )
    s.at(left + timedelta(hours=1))
    body = s.ok("check-out", s.m.owner, {"report": {"items": [SOFA_BURNT]}})
    assert body["status"] == "awaiting_return_inspection"
    assert body["check_outs"]["owner"]["report"]["items"][0]["status"] == "damaged"

    # The bookings view shows the same, once it has caught up.
    r = s.api.client.get(
        f"{API}/me/bookings", params={"role": "owner"}, headers=s.m.owner.headers | caught_up(s.api)
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()["data"]
    assert row["status"] == "awaiting_return_inspection"
    assert set(row["check_ins"]) == {"renter", "owner"}
    assert row["check_outs"]["owner"]["report"]["items"][0]["name"] == "Sofa"
    assert datetime.fromisoformat(row["check_outs"]["renter"]["at"]) == left


def test_the_inspection_deadline_moves_to_the_check_out_and_the_scheduler_completes_then(
    stay: StayFactory,
) -> None:
    s = stay()
    s.at(s.start_at + timedelta(hours=1))
    s.ok("check-in", s.m.renter)
    left = s.start_at + timedelta(hours=10)  # well before the booking's end
    s.at(left)
    s.ok("check-out", s.m.renter)
    container = s.api.container
    assert container.runner.wait_for(container.store.current_position(), ["deadlines"], 10)
    source = ViewDeadlineSource(container.views, container.runner.tables("deadlines"))
    due = {d.booking_id: d for d in source.due(left + timedelta(hours=48), 100)}
    assert due[UUID(s.id)].kind == "complete"
    assert due[UUID(s.id)].due_at == left + timedelta(hours=48)
    container.scheduler.run_due(left + timedelta(hours=47))  # a review reminder may be due
    assert s.get()["status"] == "awaiting_return_inspection"  # the completion is not
    s.at(left + timedelta(hours=48))
    assert _status_becomes(s.m, s.id, "completed")["status"] == "completed"


def test_bookings_nobody_checks_in_or_out_move_on_the_deadlines_as_before(
    stay: StayFactory,
) -> None:
    s = stay()
    s.at(s.start_at)
    assert _status_becomes(s.m, s.id, "in_progress")["check_ins"] == {}
    s.at(s.end_at)
    body = _status_becomes(s.m, s.id, "awaiting_return_inspection")
    assert datetime.fromisoformat(body["deadlines"]["inspection_ends_at"]) >= s.end_at + timedelta(
        hours=48
    )
    # A late check-out within the grace still records its report and moves nothing.
    s.at(s.end_at + timedelta(hours=3))
    body = s.ok("check-out", s.m.owner, {"report": {"items": [SOFA_BURNT]}})
    assert body["status"] == "awaiting_return_inspection"


def test_the_listings_grace_hours_bound_each_window(stay: StayFactory) -> None:
    s = stay(check_in_grace_hours=2, check_out_grace_hours=1)
    s.at(s.start_at - timedelta(hours=3))
    r = s.send("check-in", s.m.renter)
    assert r.status_code == 422 and code(r) == "check_in_not_open"
    assert "opens at" in r.json()["detail"]
    s.at(s.end_at + timedelta(minutes=90))  # inside the check-in grace, past the check-out's
    r = s.send("check-out", s.m.renter)
    assert r.status_code == 422 and code(r) == "check_out_closed"
    r = s.send("check-in", s.m.renter)
    assert r.status_code == 422 and code(r) == "check_in_closed"


def test_the_grace_hours_are_a_listing_field_with_bounds(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = open_listing(api, owner, admin)
    r = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers)
    assert r.json()["listing"]["check_in_grace_hours"] == 24
    assert r.json()["listing"]["check_out_grace_hours"] == 24
    for field in ("check_in_grace_hours", "check_out_grace_hours"):
        for bad in (-1, 24 * 7 + 1, "soon"):
            r = api.client.patch(
                f"{API}/listings/{listing_id}", json={field: bad}, headers=owner.headers
            )
            assert r.status_code == 422, r.text
    r = api.client.patch(
        f"{API}/listings/{listing_id}", json={"check_in_grace_hours": 6}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["listing"]["check_in_grace_hours"] == 6
    assert r.json()["listing"]["check_out_grace_hours"] == 24  # each end has its own


# -- refusals record nothing ------------------------------------------------------------------


def test_refusals_are_problems_and_record_nothing(stay: StayFactory) -> None:
    s = stay()
    s.at(s.start_at - timedelta(hours=30))
    stranger = s.api.new_user()
    cases: list[tuple[str, Auth, Any, int, str]] = [
        ("check-in", s.m.renter, None, 422, "check_in_not_open"),
        ("check-out", s.m.renter, None, 422, "check_out_not_open"),
        ("check-in", stranger, None, 404, "booking_not_found"),
        ("check-in", s.m.admin, None, 403, "not_party"),
    ]
    for n, (action, auth, body, status, problem) in enumerate(cases):
        before = s.api.container.store.current_position()
        r = s.send(action, auth, body, **{"X-Request-Id": f"refused-{n}"})
        assert (r.status_code, code(r)) == (status, problem), r.text
        assert r.json()["request_id"] == f"refused-{n}"
        assert recorded_by(s.api, before, r) == []

    s.at(s.start_at)
    s.ok("check-in", s.m.renter)
    bad_bodies: list[tuple[Any, int, str]] = [
        ({"report": {"items": [SOFA_OK]}, "items": [SOFA_OK]}, 422, "validation_failed"),
        ({"items": [SOFA_OK | {"status": "broken"}]}, 422, "validation_failed"),
        ({"items": [SOFA_OK, SOFA_OK | {"name": "SOFA"}]}, 422, "duplicate_report_item"),
        ({"items": [SOFA_OK | {"note": "a\u0000b"}]}, 422, "validation_failed"),
        ({"items": [SOFA_OK | {"photo_ids": ["not-a-uuid"]}]}, 422, "validation_failed"),
        ({"report": {}}, 422, "validation_failed"),
    ]
    for n, (body, status, problem) in enumerate(bad_bodies):
        before = s.api.container.store.current_position()
        r = s.send("check-in", s.m.owner, body, **{"X-Request-Id": f"bad-{n}"})
        assert (r.status_code, code(r)) == (status, problem), r.text
        assert recorded_by(s.api, before, r) == []
    before = s.api.container.store.current_position()
    r = s.send("check-in", s.m.renter, None, **{"X-Request-Id": "twice"})
    assert r.status_code == 409 and code(r) == "already_check_in"
    assert recorded_by(s.api, before, r) == []
    assert s.api.client.post(f"{API}/bookings/{s.id}/check-in").status_code == 401
    missing = f"{API}/bookings/{uuid.uuid4()}/check-out"
    r = s.api.client.post(missing, headers=s.m.renter.headers)
    assert r.status_code == 404 and code(r) == "booking_not_found"


def test_an_idempotent_retry_of_a_check_in_replays_the_first_answer(stay: StayFactory) -> None:
    s = stay()
    s.at(s.start_at)
    first = s.send("check-in", s.m.renter, {"items": [SOFA_OK]}, **{"Idempotency-Key": "in-1"})
    again = s.send("check-in", s.m.renter, {"items": [SOFA_OK]}, **{"Idempotency-Key": "in-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.headers["X-Rentbook-Position"] == again.headers["X-Rentbook-Position"]


# -- photos through the MediaCatalog port -----------------------------------------------------


class FakeMediaCatalog(MediaCatalog):
    def __init__(self) -> None:
        self.uploads: dict[UUID, UUID] = {}  # media id -> uploader

    def upload(self, owner_id: str) -> UUID:
        media_id = uuid.uuid4()
        self.uploads[media_id] = UUID(owner_id)
        return media_id

    def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
        return [m for m in media_ids if self.uploads.get(m) != owner_id]


def test_report_photos_must_be_the_reporters_own_uploads(stay: StayFactory) -> None:
    s = stay()
    catalog = FakeMediaCatalog()
    s.api.container.stays.media = catalog
    s.at(s.start_at)
    theirs = catalog.upload(s.m.owner.id)
    before = s.api.container.store.current_position()
    r = s.send("check-in", s.m.renter, {"items": [SOFA_OK | {"photo_ids": [str(theirs)]}]})
    assert r.status_code == 422 and code(r) == "unknown_media"
    assert str(theirs) in r.json()["detail"]
    assert recorded_by(s.api, before, r) == []
    mine = catalog.upload(s.m.renter.id)
    body = s.ok("check-in", s.m.renter, {"items": [SOFA_OK | {"photo_ids": [str(mine)]}]})
    item = body["check_ins"]["renter"]["report"]["items"][0]
    assert item["photo_ids"] == [str(mine)]
    assert item["photo_urls"] == [f"/api/v1/media/{mine}/display"]


# -- damage claims ------------------------------------------------------------------------------


def checked_out(s: Stay) -> datetime:
    """Renter in at the start with the sofa fine; out 6 hours before the end; the owner's
    return report finds it burnt. Returns the check-out instant."""
    s.at(s.start_at)
    s.ok("check-in", s.m.renter, {"items": [SOFA_OK]})
    left = s.end_at - timedelta(hours=6)
    s.at(left)
    s.ok("check-out", s.m.renter)
    s.ok("check-out", s.m.owner, {"items": [SOFA_BURNT]})
    return left


def claim(s: Stay, auth: Auth, **body: Any) -> Response:
    payload = {
        "type": "damage",
        "description": "Burn mark on the sofa",
        "claimed_amount": {"amount": 8_000, "currency": "EUR"},
        "cited_items": ["Sofa"],
    } | body
    return s.api.client.post(f"{API}/bookings/{s.id}/disputes", json=payload, headers=auth.headers)


def test_a_damage_claim_cites_report_items_from_the_check_out_on(stay: StayFactory) -> None:
    s = stay()
    checked_out(s)  # before the booking's end: the claim window opened at the check-out
    before = s.api.container.store.current_position()
    r = claim(s, s.m.owner, cited_items=["Lamp"])
    assert r.status_code == 422 and code(r) == "unknown_report_item"
    assert recorded_by(s.api, before, r) == []
    catalog = FakeMediaCatalog()
    s.api.container.disputes.media = catalog
    r = claim(s, s.m.owner, photo_ids=[str(catalog.upload(s.m.renter.id))])
    assert r.status_code == 422 and code(r) == "unknown_media"
    photo = catalog.upload(s.m.owner.id)
    r = claim(s, s.m.owner, photo_ids=[str(photo)])
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert dispute["type"] == "damage" and dispute["opener_role"] == "owner"
    assert dispute["cited_items"] == ["Sofa"] and dispute["photo_ids"] == [str(photo)]
    assert s.get()["status"] == "disputed"


def test_a_claim_after_the_inspection_window_from_the_check_out_is_422(
    stay: StayFactory,
) -> None:
    s = stay()
    left = checked_out(s)
    s.at(left + timedelta(hours=48))
    r = claim(s, s.m.owner)
    assert r.status_code == 422 and code(r) == "dispute_window_closed"
