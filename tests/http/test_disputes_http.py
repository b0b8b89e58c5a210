"""Disputes over HTTP: opening within the window, visibility, responses, the admin's
assignment, information requests and resolution (money through the payment commands, booking
back to completed), the admins' queue, and the refusals."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import Response

from application.context import Actor, command_context
from domain.errors import ConflictError
from domain.money import Money
from infrastructure.simulated_gateway import SimulatedGateway
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, code, open_listing
from tests.polling import eventually

DEPOSIT: dict[str, Any] = {"amount": 20_000, "currency": "EUR"}
DISPUTE = {
    "type": "damage",
    "description": "The sofa has a burn mark.",
    "claimed_amount": {"amount": 15_000, "currency": "EUR"},
    "evidence": ["https://example.com/sofa.jpg"],
}


@dataclass
class PaymentsSpy:
    """Records the payment commands a dispute calls, then lets the real ones run."""

    real: Any
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def refund(self, booking_id: Any, amount: Money, reason: str, *, by: Actor, at: Any) -> int:
        self.calls.append(("refund", str(booking_id), amount))
        return int(self.real.refund(booking_id, amount, reason, by=by, at=at))

    def capture_deposit(
        self, booking_id: Any, amount: Money, reason: str, *, by: Actor, at: Any
    ) -> int:
        self.calls.append(("capture_deposit", str(booking_id), amount))
        return int(self.real.capture_deposit(booking_id, amount, reason, by=by, at=at))

    def release_deposit(self, booking_id: Any, *, by: Actor, at: Any) -> int:
        self.calls.append(("release_deposit", str(booking_id)))
        return int(self.real.release_deposit(booking_id, by=by, at=at))


@dataclass
class Ended:
    """A paid booking whose period is over (awaiting return inspection)."""

    m: Market
    booking: dict[str, Any]
    spy: PaymentsSpy

    @property
    def id(self) -> str:
        return str(self.booking["id"])

    @property
    def api(self) -> Api:
        return self.m.api

    def open(self, auth: Auth | None = None, **body: Any) -> Response:
        return self.m.post(f"/bookings/{self.id}/disputes", auth or self.m.renter, DISPUTE | body)

    def opened(self, auth: Auth | None = None, **body: Any) -> dict[str, Any]:
        r = self.open(auth, **body)
        assert r.status_code == 201, r.text
        dispute: dict[str, Any] = r.json()
        return dispute

    def booking_status(self) -> str:
        return str(self.m.get(self.id).json()["status"])


def _relogin(api: Api, auth: Auth) -> Auth:
    return api.login(auth.email)  # the clock moved past the first session's lifetime


def _status_becomes(m: Market, booking_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        m.api.container.scheduler.run_due(m.api.clock.now())
        body: dict[str, Any] = m.get(booking_id).json()
        return body if body["status"] == status else None

    return eventually(reached, f"the booking {status}", seen=lambda: m.get(booking_id).json())


def _authorize_deposit(api: Api, payment_id: str) -> None:
    """Waits for the deposit hold (the dev endpoint settled it with the charge); confirms it
    at the card network when it is still pending."""
    gateway = api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    with command_context(Actor.system()), contextlib.suppress(ConflictError):
        gateway.settle(UUID(payment_id), succeed=True, step="deposit")
    eventually(
        lambda: (
            api.container.store.load(UUID(payment_id), "payment").deposit_capturable
            == DEPOSIT["amount"]
        ),
        "the deposit hold recorded",
    )


EndedFactory = Callable[..., Ended]


@pytest.fixture
def ended(api: Api) -> EndedFactory:
    def make(after_end: timedelta = timedelta(hours=1)) -> Ended:
        owner, admin, renter = api.new_user(), api.admin(), api.new_user()
        listing_id = open_listing(api, owner, admin, deposit=DEPOSIT)
        m = Market(api, owner, admin, renter, listing_id)
        booking = m.paid(30, 32)
        _authorize_deposit(api, booking["payment_id"])
        end_at = datetime.fromisoformat(booking["deadlines"]["end_at"])
        api.clock.set(end_at + after_end)
        m = Market(
            api, _relogin(api, owner), _relogin(api, admin), _relogin(api, renter), listing_id
        )
        booking = _status_becomes(m, booking["id"], "awaiting_return_inspection")
        spy = PaymentsSpy(api.container.disputes.payments)
        api.container.disputes.payments = spy
        return Ended(m, booking, spy)

    return make


def _views_caught_up(api: Api) -> dict[str, str]:
    return {"X-Rentbook-Min-Position": str(api.container.store.current_position())}


# -- opening ---------------------------------------------------------------------------------


def test_the_renter_opens_a_dispute_and_the_booking_is_disputed(ended: EndedFactory) -> None:
    e = ended()
    r = e.open()
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "open" and body["type"] == "damage"
    assert body["booking_id"] == e.id and body["opener_role"] == "renter"
    assert body["claimed_amount"] == {"amount": 15_000, "currency": "EUR"}
    assert body["evidence"] == [{"by": "renter", "url": "https://example.com/sofa.jpg"}]
    assert body["deadlines"]["first_action_due"] and body["deadlines"]["resolution_due"]
    assert r.headers["Location"] == f"/api/v1/disputes/{body['id']}"
    assert r.headers["ETag"] == '"1"' and int(r.headers["X-Rentbook-Position"]) > 0
    assert e.booking_status() == "disputed"


def test_opening_after_the_48_hour_window_is_422(ended: EndedFactory) -> None:
    e = ended(after_end=timedelta(hours=49))
    r = e.open()
    assert r.status_code == 422 and code(r) == "dispute_window_closed"
    assert e.booking_status() == "awaiting_return_inspection"


def test_strangers_get_404_and_bad_bodies_422(ended: EndedFactory) -> None:
    e = ended()
    r = e.open(e.api.new_user())
    assert r.status_code == 404 and code(r) == "booking_not_found"
    assert e.open(type="vandalism").status_code == 422
    r = e.open(evidence=["ftp://example.com/x"])
    assert r.status_code == 422 and code(r) == "bad_evidence_url"
    assert e.api.client.post(f"{API}/bookings/{e.id}/disputes", json=DISPUTE).status_code == 401
    assert e.booking_status() == "awaiting_return_inspection"


def test_a_second_dispute_while_one_is_live_is_409(ended: EndedFactory) -> None:
    e = ended()
    e.opened()
    r = e.open(e.m.owner)
    assert r.status_code == 409 and code(r) == "invalid_booking_transition"


def test_a_dispute_is_visible_to_its_parties_and_admins_only(ended: EndedFactory) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    for auth in (e.m.renter, e.m.owner, e.m.admin):
        r = e.api.client.get(f"{API}/disputes/{dispute_id}", headers=auth.headers)
        assert r.status_code == 200 and r.json()["id"] == dispute_id
    r = e.api.client.get(f"{API}/disputes/{dispute_id}", headers=e.api.new_user().headers)
    assert r.status_code == 404 and code(r) == "dispute_not_found"


# -- responses and the admin's work ------------------------------------------------------------


def test_the_owner_responds_and_the_opener_may_not_unless_asked(ended: EndedFactory) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    url = f"/disputes/{dispute_id}/responses"
    r = e.m.post(url, e.m.owner, {"message": "It was there before.", "evidence": []})
    assert r.status_code == 201, r.text
    assert r.json()["responses"][0]["role"] == "owner"
    r = e.m.post(url, e.m.renter, {"message": "No it was not."})
    assert r.status_code == 403 and code(r) == "not_asked"
    assert e.m.post(url, e.api.new_user(), {"message": "Hi"}).status_code == 404


def test_an_admin_assigns_asks_and_the_answer_returns_it_to_review(
    ended: EndedFactory,
) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    r = e.m.post(f"/admin/disputes/{dispute_id}/assign", e.m.admin, {})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "under_review"
    assert r.json()["assigned_admin_id"] == e.m.admin.id
    due = (e.api.clock.now() + timedelta(days=2)).isoformat()
    r = e.m.post(
        f"/admin/disputes/{dispute_id}/request-information",
        e.m.admin,
        {"to": "renter", "question": "Any photos at check-in?", "due_at": due},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_information"
    r = e.m.post(f"/disputes/{dispute_id}/responses", e.m.renter, {"message": "Attached."})
    assert r.status_code == 201 and r.json()["status"] == "under_review"


def test_assigning_to_someone_who_is_not_an_admin_is_422(ended: EndedFactory) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    r = e.m.post(f"/admin/disputes/{dispute_id}/assign", e.m.admin, {"admin_id": e.m.owner.id})
    assert r.status_code == 422 and code(r) == "not_an_admin"
    other_admin = e.api.admin()
    r = e.m.post(f"/admin/disputes/{dispute_id}/assign", e.m.admin, {"admin_id": other_admin.id})
    assert r.status_code == 200 and r.json()["assigned_admin_id"] == other_admin.id


@pytest.mark.parametrize("action", ["assign", "request-information", "resolve"])
def test_admin_actions_by_a_non_admin_are_403(ended: EndedFactory, action: str) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    body: dict[str, Any] = {
        "assign": {},
        "request-information": {"to": "owner", "question": "?", "due_at": "2099-01-01T00:00Z"},
        "resolve": {"outcome": "renter_favour", "note": "Mine."},
    }[action]
    r = e.m.post(f"/admin/disputes/{dispute_id}/{action}", e.m.owner, body)
    assert r.status_code == 403 and code(r) == "admin_required"
    assert e.spy.calls == []
    assert e.booking_status() == "disputed"


# -- resolution --------------------------------------------------------------------------------


def test_a_resolution_over_the_refundable_amount_is_422_and_moves_nothing(
    ended: EndedFactory,
) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    too_much = e.booking["quote"]["total"] + 1
    r = e.m.post(
        f"/admin/disputes/{dispute_id}/resolve",
        e.m.admin,
        {
            "outcome": "renter_favour",
            "refund_to_renter": {"amount": too_much, "currency": "EUR"},
            "note": "Full refund and then some.",
        },
    )
    assert r.status_code == 422 and code(r) == "bad_refund_to_renter"
    r = e.m.post(
        f"/admin/disputes/{dispute_id}/resolve",
        e.m.admin,
        {
            "outcome": "owner_favour",
            "deposit_to_owner": {"amount": DEPOSIT["amount"] + 1, "currency": "EUR"},
            "note": "More than the deposit.",
        },
    )
    assert r.status_code == 422 and code(r) == "bad_deposit_to_owner"
    assert e.spy.calls == []
    assert e.booking_status() == "disputed"


def test_a_split_resolution_moves_money_through_payments_and_completes_the_booking(
    ended: EndedFactory,
) -> None:
    e = ended()
    dispute_id = e.opened()["id"]
    r = e.m.post(
        f"/admin/disputes/{dispute_id}/resolve",
        e.m.admin,
        {
            "outcome": "split",
            "refund_to_renter": {"amount": 5_000, "currency": "EUR"},
            "deposit_to_owner": {"amount": 8_000, "currency": "EUR"},
            "note": "Burn mark confirmed; one night was not as described.",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved"
    assert body["resolution"]["outcome"] == "split"
    assert body["resolution"]["refund_to_renter"] == {"amount": 5_000, "currency": "EUR"}
    assert body["resolution"]["deposit_to_owner"] == {"amount": 8_000, "currency": "EUR"}
    assert e.spy.calls == [
        ("refund", e.id, Money(5_000, "EUR")),
        ("capture_deposit", e.id, Money(8_000, "EUR")),
    ]
    assert e.booking_status() == "completed"
    r = e.m.post(
        f"/admin/disputes/{dispute_id}/resolve", e.m.admin, {"outcome": "rejected", "note": "x"}
    )
    assert r.status_code == 409 and code(r) == "invalid_dispute_transition"


def test_the_opener_withdraws_and_the_deposit_is_released(ended: EndedFactory) -> None:
    e = ended()
    dispute_id = e.opened(e.m.owner)["id"]
    r = e.m.post(f"/disputes/{dispute_id}/withdraw", e.m.renter, {"reason": "Not mine"})
    assert r.status_code == 403 and code(r) == "not_opener"
    r = e.m.post(f"/disputes/{dispute_id}/withdraw", e.m.owner, {"reason": "Found it fine"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert e.spy.calls == [("release_deposit", e.id)]
    assert e.booking_status() == "completed"


# -- the queue ---------------------------------------------------------------------------------


def test_admins_see_the_queue_with_filters_and_others_get_403(ended: EndedFactory) -> None:
    e = ended()
    first = e.opened()["id"]
    e.api.clock.advance(minutes=5)
    second_case = ended()
    second = second_case.opened(second_case.m.owner)["id"]
    admin = e.api.login(e.m.admin.email)
    e.m.post(f"/admin/disputes/{first}/assign", admin, {})
    url = f"{API}/admin/disputes"

    def ids(**params: Any) -> list[str]:
        r = e.api.client.get(url, params=params, headers=admin.headers | _views_caught_up(e.api))
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["data"]]

    assert ids() == [first, second]
    assert ids(status="open") == [second]
    assert ids(status="under_review") == [first]
    assert ids(status="live", assigned="me") == [first]
    assert ids(assigned="none") == [second]
    # the first was opened a month of clock time earlier: past its 7-day resolution SLA
    assert ids(overdue="true") == [first]
    assert ids(overdue="false") == [second]
    r = e.api.client.get(url, params={"limit": 1}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["next_cursor"]
    r = e.api.client.get(url, headers=e.api.new_user().headers)
    assert r.status_code == 403 and code(r) == "admin_required"
    assert (
        e.api.client.get(url, params={"status": "lost"}, headers=admin.headers).status_code == 422
    )
