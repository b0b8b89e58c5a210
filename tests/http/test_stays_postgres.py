"""A whole stay on PostgreSQL + Redis (rq jobs, simulated gateway): paid with a deposit held,
checked in, checked out, then either a damage claim resolved for the owner captures from the
deposit, or no claim is made and the deposit is released when the inspection window closes.
Either way the ledger shows it and verifies balanced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing
from tests.http.test_disputes_http import DEPOSIT, _status_becomes
from tests.http.test_stays_http import SOFA_BURNT, SOFA_OK, Stay, caught_up
from tests.polling import eventually

CLAIM = {"amount": 8_000, "currency": "EUR"}


def payment_of(api: Api, payment_id: str) -> Any:
    return api.container.store.load(UUID(payment_id), "payment")


def paid_stay_with_deposit(api: Api) -> Stay:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = open_listing(api, owner, admin, deposit=DEPOSIT)
    m = Market(api, owner, admin, renter, listing_id)
    # POST /dev/payments/{id}/succeed runs the charge and deposit jobs if rq has not yet
    # (same idempotency keys) and settles both: the booking confirms with its hold.
    booking = m.paid(30, 32)
    payment_id = booking["payment_id"]
    eventually(
        lambda: payment_of(api, payment_id).deposit_capturable == DEPOSIT["amount"],
        "deposit held",
        timeout=60,
    )
    return Stay(m, booking)


def check_in_and_out(s: Stay) -> None:
    s.at(s.start_at - timedelta(hours=2))
    assert s.ok("check-in", s.m.renter, {"report": {"items": [SOFA_OK]}})["status"] == (
        "in_progress"
    )
    s.ok("check-in", s.m.owner, {"report": {"items": [SOFA_OK]}})
    s.at(s.end_at - timedelta(hours=1))
    body = s.ok("check-out", s.m.renter)
    assert body["status"] == "awaiting_return_inspection"
    s.ok("check-out", s.m.owner, {"report": {"items": [SOFA_BURNT]}})


def ledger_caught_up(api: Api) -> dict[str, str]:
    """Every payment event so far has its journal entry (recorded here if the ledger thread
    has not yet); the header for reading the ledger views after them."""
    ledger = api.container.ledger
    assert ledger is not None
    ledger.catch_up()
    return caught_up(api)


def ledger_get(api: Api, admin: Auth, path: str, **params: Any) -> Any:
    headers = admin.headers | ledger_caught_up(api)
    r = api.client.get(f"{API}/admin/ledger{path}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def assert_balanced(api: Api, admin: Auth) -> None:
    verified = ledger_get(api, admin, "/verify")
    assert verified["balanced"] is True and verified["derived_matches_recorded"] is True
    assert verified["total_debits"] == verified["total_credits"]


def test_a_damage_claim_resolved_for_the_owner_captures_from_the_deposit(pg_api: Api) -> None:
    s = paid_stay_with_deposit(pg_api)
    check_in_and_out(s)
    r = pg_api.client.post(
        f"{API}/bookings/{s.id}/disputes",
        json={
            "type": "damage",
            "description": "The sofa came back with a burn mark.",
            "claimed_amount": CLAIM,
            "cited_items": ["Sofa"],
        },
        headers=s.m.owner.headers,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert dispute["cited_items"] == ["Sofa"] and s.get()["status"] == "disputed"

    r = pg_api.client.post(
        f"{API}/admin/disputes/{dispute['id']}/resolve",
        json={"outcome": "owner_favour", "deposit_to_owner": CLAIM, "note": "Burn confirmed."},
        headers=s.m.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert s.get()["status"] == "completed"

    payment_id = s.booking["payment_id"]
    hold = eventually(
        lambda: (h := payment_of(pg_api, payment_id).deposit_hold)["captured"] and h,
        "deposit captured",
        timeout=60,
    )
    assert hold["captured"] == CLAIM["amount"]
    entries = ledger_get(pg_api, s.m.admin, "/entries", booking_id=s.id)["data"]
    captured = [e for e in entries if e["source_type"] == "Payment.DepositCaptured"]
    assert len(captured) == 1
    owner_credit = [
        p
        for p in captured[0]["postings"]
        if p["account"].startswith("liabilities:owner_payable") and p["side"] == "credit"
    ]
    assert [p["amount"] for p in owner_credit] == [CLAIM["amount"]]
    assert_balanced(pg_api, s.m.admin)


def test_without_a_claim_the_deposit_is_released_when_the_inspection_window_closes(
    pg_api: Api,
) -> None:
    s = paid_stay_with_deposit(pg_api)
    check_in_and_out(s)
    left = s.end_at - timedelta(hours=1)
    s.at(left + timedelta(hours=47))
    pg_api.container.scheduler.run_due(pg_api.clock.now())  # reminders, not the completion
    assert s.get()["status"] == "awaiting_return_inspection"
    s.at(left + timedelta(hours=48))
    _status_becomes(s.m, s.id, "completed")

    payment_id = s.booking["payment_id"]
    # The payments scheduler (a worker thread here) finds the completed booking with its
    # deposit still held and orders the release; the processor confirms it by webhook.
    eventually(
        lambda: payment_of(pg_api, payment_id).deposit_hold["status"] == "released",
        "deposit released",
        timeout=60,
    )
    hold = payment_of(pg_api, payment_id).deposit_hold
    assert (hold["released"], hold["captured"]) == (DEPOSIT["amount"], 0)
    entries = ledger_get(pg_api, s.m.admin, "/entries", booking_id=s.id)["data"]
    types = [e["source_type"] for e in entries]
    assert "Payment.DepositReleased" in types and "Payment.DepositCaptured" not in types
    assert_balanced(pg_api, s.m.admin)
