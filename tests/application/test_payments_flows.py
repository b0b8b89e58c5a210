"""Payments use cases end to end on the simulated gateway: pay, cancel → refund, deposit
capture/release, payouts gated by the owner's account, signatures, chaos and faults."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from application.context import Actor
from application.jobs import InlineJobQueue, RetryPolicy
from application.payment_gateway import payment_id_for
from application.payments import Payments
from application.store import EventStore
from domain import booking as b
from domain.money import Money
from domain.payment_queries import PaymentQueries
from infrastructure.payments_wiring import WebhookReceiver
from infrastructure.simulated_gateway import DEFAULT_WEBHOOK_SECRET, Faults, SimulatedGateway
from infrastructure.stripe_events import InvalidSignature
from infrastructure.views_db import create_views_engine
from tests.builders import NOW, World, make_world

START = "2026-07-01"


class AllBookings(PaymentQueries):
    """A fake of the payments view: every booking it was told about needs attention."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.intents: dict[str, UUID] = {}

    def payment_for(self, processor_id: str) -> UUID | None:
        return self.intents.get(processor_id)

    def owner_for_account(self, account_id: str) -> UUID | None:
        return None

    def due_payouts(self, at: datetime, limit: int, owner_id: UUID | None = None) -> list[UUID]:
        return list(self.ids)

    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        return list(self.ids)


@dataclass
class Env:
    world: World
    payments: Payments
    gateway: SimulatedGateway
    queries: AllBookings
    delivered: list[bytes] = field(default_factory=list)
    listing_id: UUID | None = None

    def place(
        self,
        *,
        start: str = START,
        end: str = "2026-07-04",
        at: datetime = NOW,
        booking_id: UUID | None = None,
    ) -> UUID:
        assert self.listing_id is not None
        booking_id, _ = self.world.bookings.place(
            self.world.renter,
            self.listing_id,
            start=start,
            end=end,
            quantity=1,
            guests=2,
            at=at,
            booking_id=booking_id,
        )
        self.queries.ids.append(booking_id)
        return booking_id

    def paid(self, at: datetime = NOW) -> UUID:
        booking_id = self.place(at=at)
        self.payments.start_payment(self.world.renter, booking_id, at)
        self.gateway.settle_pending(payment_id_for(booking_id))  # the charge and the deposit
        return booking_id

    def status(self, booking_id: UUID) -> str:
        return self.world.bookings.get(booking_id).status


def make_env(
    tmp_path: Path,
    *,
    store: EventStore | None = None,
    deposit: int | None = 20_000,
    faults: Faults | None = None,
    auto_confirm: bool = False,
    deliver: bool = True,
    drop_rate: float = 0.0,
    policy: str = "flexible",
) -> Env:
    world = make_world(store)
    engine = create_views_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    clock = {"now": NOW}
    gateway = SimulatedGateway(
        engine,
        faults=faults,
        auto_confirm=auto_confirm,
        deliver_immediately=deliver,
    )
    queries = AllBookings()
    jobs = InlineJobQueue(RetryPolicy(max_retries=5, base_delay=0))
    payments = Payments(world.bookings, gateway, jobs, queries, clock=lambda: clock["now"])
    payments.observe(world.bookings)
    env = Env(world, payments, gateway, queries)
    receiver = WebhookReceiver(payments, DEFAULT_WEBHOOK_SECRET, lambda: clock["now"])
    drops = random.Random(7)

    def receive(payload: bytes, signature: str) -> None:
        env.delivered.append(payload)
        if drop_rate and drops.random() < drop_rate:
            return  # a lost webhook
        receiver(payload, signature)

    gateway.deliver_webhooks_to(receive)
    spec: dict[str, Any] = {"cancellation_policy": policy}
    if deposit:
        spec["deposit"] = {"amount": deposit, "currency": "EUR"}
    env.listing_id = world.active_listing(**spec)
    return env


def test_paying_captures_the_charge_authorises_the_deposit_and_confirms(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.place()
    result = env.payments.start_payment(env.world.renter, booking_id, NOW)
    assert result["client_secret"] and result["status"] == "requires_confirmation"
    env.gateway.settle(payment_id_for(booking_id), succeed=True, step="deposit")
    env.gateway.settle(payment_id_for(booking_id), succeed=True)
    payment = env.payments.payment(booking_id)
    assert payment.charge["status"] == "captured"
    assert payment.charge["captured"] == env.world.bookings.get(booking_id).quote["total"]
    assert payment.deposit_hold["status"] == "authorized"
    assert env.status(booking_id) == b.CONFIRMED


def test_a_declined_charge_cancels_the_booking(tmp_path: Path, money_store: EventStore) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.place()
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(payment_id_for(booking_id), succeed=False, reason="insufficient_funds")
    assert env.status(booking_id) == b.CANCELLED
    assert env.payments.payment(booking_id).charge["status"] == "failed"


def test_renter_cancellation_refunds_the_policy_amount_and_releases_the_deposit(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.paid()
    env.world.bookings.cancel(env.world.renter, booking_id, "plans changed", NOW)
    booking = env.world.bookings.get(booking_id)
    payment = env.payments.payment(booking_id)
    due = booking.refund_due["amount"] if booking.refund_due else 0
    assert due > 0
    assert payment.refunds["refund-cancel"]["amount"] == due
    assert payment.refunds["refund-cancel"]["status"] == "succeeded"
    assert payment.deposit_hold["status"] == "released"
    assert booking.status == b.REFUNDED


def test_owner_cancellation_refunds_everything(tmp_path: Path, money_store: EventStore) -> None:
    env = make_env(tmp_path, store=money_store, deposit=None, policy="non_refundable")
    booking_id = env.paid()
    env.world.bookings.cancel(env.world.owner, booking_id, "burst pipe", NOW)
    payment = env.payments.payment(booking_id)
    assert payment.refunded == payment.charge["captured"] and payment.refundable == 0
    assert env.status(booking_id) == b.REFUNDED


def test_refunds_are_bounded_by_what_was_captured(tmp_path: Path, money_store: EventStore) -> None:
    env = make_env(tmp_path, store=money_store, deposit=None)
    booking_id = env.paid()
    captured = env.payments.payment(booking_id).charge["captured"]
    admin = env.world.admin
    env.payments.refund(booking_id, Money(1000, "EUR"), "goodwill", by=admin, at=NOW)
    env.payments.refund(booking_id, Money(500, "EUR"), "goodwill", by=admin, at=NOW)
    payment = env.payments.payment(booking_id)
    assert [r["status"] for r in payment.refunds.values()] == ["succeeded", "succeeded"]
    with pytest.raises(Exception, match="exceeds"):
        env.payments.refund(booking_id, Money(captured, "EUR"), "too much", by=admin, at=NOW)


def test_a_partial_deposit_capture_releases_the_rest(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.paid()
    env.payments.capture_deposit(
        booking_id, Money(5_000, "EUR"), "broken lamp", by=env.world.admin, at=NOW
    )
    hold = env.payments.payment(booking_id).deposit_hold
    assert (hold["captured"], hold["released"], hold["status"]) == (5_000, 15_000, "released")
    with pytest.raises(Exception, match="deposit"):
        env.payments.release_deposit(booking_id, by=env.world.admin, at=NOW)


def test_releasing_the_deposit_cancels_the_hold(tmp_path: Path, money_store: EventStore) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.paid()
    env.payments.release_deposit(booking_id, by=env.world.admin, at=NOW)
    hold = env.payments.payment(booking_id).deposit_hold
    assert (hold["status"], hold["released"], hold["captured"]) == ("released", 20_000, 0)


def test_payout_waits_for_start_plus_24h_and_an_enabled_account(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.paid()
    booking = env.world.bookings.get(booking_id)
    env.world.bookings.begin(booking_id, booking.start_at)
    payout_at = booking.start_at + timedelta(hours=24)
    assert env.payments.schedule_payout(booking_id, payout_at - timedelta(minutes=1)) == 0
    env.payments.schedule_payout(booking_id, payout_at)
    payment = env.payments.payment(booking_id)
    assert payment.transfer_due_at == payout_at.isoformat() and not payment.transfers
    link = env.payments.payout_account_link(
        env.world.owner, "owner@example.com", refresh_url="r", return_url="d", at=payout_at
    )
    assert link["payouts_enabled"] is False and link["url"].startswith("https://")
    env.payments.run_due(payout_at)
    assert not env.payments.payment(booking_id).transfers  # not onboarded yet
    env.queries.intents.clear()
    env.gateway.complete_onboarding(link["account_id"])  # account.updated: payouts enabled
    assert env.payments.owner_account(env.world.owner.id).payouts_enabled  # type: ignore[union-attr]
    env.payments.run_due(payout_at + timedelta(minutes=1))
    payment = env.payments.payment(booking_id)
    sent = [t for t in payment.transfers.values() if t["status"] == "sent"]
    assert len(sent) == 1 and sent[0]["amount"] == booking.quote["owner_payout"]
    assert payment.owner_balance == 0
    # The inspection window closes without a dispute: deposit released, booking settled.
    end_at = booking.deadline("end_at")
    assert end_at is not None
    env.world.bookings.finish(booking_id, end_at)
    done = end_at + b.INSPECTION_WINDOW
    env.world.bookings.complete(Actor.system(), booking_id, done)
    env.payments.run_due(done)
    assert env.payments.payment(booking_id).deposit_hold["status"] == "released"
    assert env.status(booking_id) == b.SETTLED


def test_a_bad_signature_is_refused_and_nothing_is_recorded(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store, deliver=False)
    booking_id = env.place()
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(payment_id_for(booking_id), succeed=True)
    with env.gateway.engine.connect() as conn:
        payload = conn.execute(sa.text("select payload from simulated_events")).scalars().all()
    receiver = WebhookReceiver(env.payments, DEFAULT_WEBHOOK_SECRET, lambda: NOW)
    before = env.world.store.current_position()
    for body in payload:
        with pytest.raises(InvalidSignature):
            receiver(body.encode(), "t=1,v1=deadbeef")
        with pytest.raises(InvalidSignature):
            other = SimulatedGateway  # signed with another secret
            header = __import__("stripe").WebhookSignature.generate_signature_header(
                body, "whsec_other", int(NOW.timestamp())
            )
            del other
            receiver(body.encode(), header)
    assert env.world.store.current_position() == before
    assert env.status(booking_id) == b.PENDING_PAYMENT
