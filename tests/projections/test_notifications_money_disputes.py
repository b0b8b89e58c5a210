"""The notifications view fed by REAL money and dispute events: a charge the simulated
gateway declines (payment_failed), a payout the use cases send once the owner's account is
onboarded (payout_sent), and a dispute opened, assigned, questioned and resolved through the
dispute use cases (dispute_opened, dispute_updated). Read back as the API reads a user's
list (NotificationStore.page), after catching the runner up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from application.disputes import Disputes
from application.payment_gateway import payment_id_for
from domain.money import Money
from infrastructure.notification_store import NotificationStore
from infrastructure.views_db import create_views_engine
from tests.application.disputes_support import FakePayments, ended_booking
from tests.application.test_payments_flows import make_env
from tests.builders import NOW
from tests.notification_builders import NotifyWorld, notify_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def listed(nw: NotifyWorld, user: UUID) -> list[dict[str, Any]]:
    """The user's notifications, oldest first, as the API's list reads them."""
    nw.runner.catch_up()
    store = NotificationStore(nw.engine, nw.runner.tables("notifications"))
    rows, _unread = store.page(user, 50, None)
    return rows[::-1]


def of_kind(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == kind]


def test_a_declined_charge_tells_the_renter_why(engine: Engine, tmp_path: Path) -> None:
    env = make_env(tmp_path, deposit=None)
    nw = notify_world(engine, env.world)
    booking_id = env.place()
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(payment_id_for(booking_id), succeed=False, reason="insufficient_funds")

    (failed,) = of_kind(listed(nw, nw.renter.id), "payment_failed")
    assert failed["data"]["booking_id"] == str(booking_id)
    assert failed["data"]["reason"] == "insufficient_funds"
    assert of_kind(listed(nw, nw.owner.id), "payment_failed") == []  # the renter's business


def test_a_payout_tells_the_owner_the_amount_sent(engine: Engine, tmp_path: Path) -> None:
    env = make_env(tmp_path, deposit=None)
    nw = notify_world(engine, env.world)
    booking_id = env.paid()
    booking = env.world.bookings.get(booking_id)
    env.world.bookings.begin(booking_id, booking.start_at)
    payout_at = booking.start_at + timedelta(hours=24)
    env.payments.schedule_payout(booking_id, payout_at)
    link = env.payments.payout_account_link(
        env.world.owner, "owner@example.com", refresh_url="r", return_url="d", at=payout_at
    )
    env.queries.intents.clear()
    env.gateway.complete_onboarding(link["account_id"])
    assert of_kind(listed(nw, nw.owner.id), "payout_sent") == []  # nothing sent yet
    env.payments.run_due(payout_at + timedelta(minutes=1))

    (payout,) = of_kind(listed(nw, nw.owner.id), "payout_sent")
    assert payout["data"]["booking_id"] == str(booking_id)
    assert payout["data"]["amount"] == booking.quote["owner_payout"] > 0
    assert payout["data"]["amount_currency"] == "EUR"
    assert of_kind(listed(nw, nw.renter.id), "payout_sent") == []


def test_a_dispute_notifies_the_other_party_then_both_of_its_updates(engine: Engine) -> None:
    nw = notify_world(engine)
    w, booking_id, ended_at = ended_booking(nw.world)
    disputes = Disputes(w.store, w.bookings, FakePayments())
    at = ended_at + timedelta(hours=1)
    dispute_id, _ = disputes.open(
        w.owner,
        booking_id,
        at=at,
        kind="damage",
        description="The bike came back with a bent wheel.",
        claimed_amount=Money(15_000, "EUR"),
        evidence=["https://example.com/wheel.jpg"],
    )
    (opened,) = of_kind(listed(nw, nw.renter.id), "dispute_opened")
    assert opened["data"]["dispute_id"] == str(dispute_id)
    assert opened["data"]["booking_id"] == str(booking_id)
    assert of_kind(listed(nw, nw.owner.id), "dispute_opened") == []  # the opener knows

    disputes.assign(w.admin, dispute_id, w.admin.id, at + timedelta(minutes=1))
    disputes.request_information(
        w.admin,
        dispute_id,
        to="renter",
        question="Photos of the wheel at pick-up?",
        due_at=at + timedelta(days=2),
        at=at + timedelta(minutes=2),
    )
    disputes.resolve(
        w.admin,
        dispute_id,
        outcome="split",
        refund_to_renter=Money(5_000, "EUR"),
        deposit_to_owner=Money(8_000, "EUR"),
        note="Half each.",
        at=at + timedelta(hours=3),
    )
    renter, owner = listed(nw, nw.renter.id), listed(nw, nw.owner.id)
    updates = [r["data"]["update"] for r in of_kind(renter, "dispute_updated")]
    assert updates == ["Assigned", "InformationRequested", "Resolved"]
    updates = [r["data"]["update"] for r in of_kind(owner, "dispute_updated")]
    assert updates == ["Assigned", "Resolved"]  # the question was the renter's
    assert {r["data"]["dispute_id"] for r in of_kind(owner, "dispute_updated")} == {str(dispute_id)}
