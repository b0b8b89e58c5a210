"""Payments under chaos on the simulated gateway, on SQLite and PostgreSQL: duplicated,
shuffled webhook deliveries converge to the in-order state; processor faults (5xx, timeouts,
lost replies, lost webhooks) over many bookings leave no double charge and nothing stuck."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from application.payment_gateway import payment_id_for
from application.store import EventStore
from domain import booking as b
from domain.money import Money
from infrastructure.payments_wiring import WebhookReceiver
from infrastructure.simulated_gateway import DEFAULT_WEBHOOK_SECRET, Faults
from infrastructure.views_db import create_views_engine
from projections.payments import PaymentsView
from projections.payments_reader import PaymentsReader
from projections.runner import ProjectionRunner
from tests.application.test_payments_flows import NOW, AllBookings, Env, make_env

# -- chaos: duplicated, shuffled deliveries ------------------------------------------------


def _state(env: Env, booking_id: UUID) -> dict[str, Any]:
    p = env.payments.payment(booking_id)
    return {
        "booking": env.status(booking_id),
        "charge": {k: p.charge[k] for k in ("status", "captured", "fee", "owner_share")},
        "deposit": {k: p.deposit_hold[k] for k in ("status", "authorized", "captured", "released")},
        "refunds": sorted((r["amount"], r["status"]) for r in p.refunds.values()),
        "owner_balance": p.owner_balance,
        "transfers": sorted(
            (t["amount"], t["reversed"], t["status"]) for t in p.transfers.values()
        ),
        "chargebacks": sorted(
            (c["status"], c["withdrawn"], c["reinstated"]) for c in p.chargebacks.values()
        ),
    }


def _chaos_scenario(
    tmp_path: Path, name: str, store: EventStore | None = None
) -> tuple[Env, UUID, list[str]]:
    """Processor facts of one booking's life, queued undelivered: charge, deposit hold and
    partial capture, a refund made at the processor, a won chargeback, a transfer and its
    partial reversal."""
    (tmp_path / name).mkdir()
    env = make_env(tmp_path / name, store=store, deliver=False)
    owner_account = env.gateway.create_connected_account(
        __import__("application.payment_gateway", fromlist=["AccountRequest"]).AccountRequest(
            env.world.owner.id, "o@example.com", f"acct-{name}"
        )
    )
    env.gateway.complete_onboarding(owner_account.account_id)
    booking_id = env.place()
    pid = payment_id_for(booking_id)
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(pid, succeed=True)
    env.gateway.settle(pid, succeed=True, step="deposit")
    pay = env.payments.payment(booking_id)
    gw = __import__("application.payment_gateway", fromlist=["x"])
    key = gw.idempotency_key
    env.gateway.capture_deposit(
        gw.CaptureRequest(
            pid,
            booking_id,
            pay.deposit_hold["intent_id"],
            key(booking_id, "cd"),
            Money(4_000, "EUR"),
        )
    )
    env.gateway.refund(
        gw.RefundRequest(
            pid, booking_id, pay.charge["intent_id"], Money(2_500, "EUR"), key(booking_id, "dash")
        )
    )
    dispute = env.gateway.open_dispute(pay.charge["intent_id"])
    env.gateway.close_dispute(dispute, won=True)
    charge = env.gateway.retrieve("payment_intent", pay.charge["intent_id"]).charge_id
    transfer = env.gateway.transfer_to_owner(
        gw.TransferRequest(
            pid,
            booking_id,
            Money(10_000, "EUR"),
            owner_account.account_id,
            charge,
            key(booking_id, "payout-1"),
        )
    )
    env.gateway.reverse_transfer(
        gw.TransferReversalRequest(
            pid, booking_id, transfer.transfer_id, Money(3_000, "EUR"), key(booking_id, "rev-1")
        )
    )
    env.queries.intents[pay.charge["intent_id"]] = pid
    with env.gateway.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text("select payload from simulated_events where state = 'pending' order by seq")
            )
            .scalars()
            .all()
        )
    events = [r for r in rows if json.loads(r)["type"] != "account.updated"]
    return env, booking_id, events


def _deliver(env: Env, payloads: list[str]) -> None:
    import stripe

    receiver = WebhookReceiver(env.payments, DEFAULT_WEBHOOK_SECRET, lambda: NOW)
    for body in payloads:
        header = stripe.WebhookSignature.generate_signature_header(
            body, DEFAULT_WEBHOOK_SECRET, int(datetime.now().timestamp())
        )
        receiver(body.encode(), header)


@pytest.mark.parametrize("seed", range(6))
def test_webhook_chaos_converges_to_the_in_order_state(
    tmp_path: Path, seed: int, money_store: EventStore
) -> None:
    ordered, ordered_booking, events = _chaos_scenario(tmp_path, f"a{seed}", money_store)
    _deliver(ordered, events)
    chaotic, chaotic_booking, same = _chaos_scenario(tmp_path, f"b{seed}", money_store)
    assert len(same) == len(events) >= 10
    rng = random.Random(seed)
    deliveries = [e for e in same for _ in range(rng.randint(1, 5))]
    rng.shuffle(deliveries)
    _deliver(chaotic, deliveries)
    expected = _state(ordered, ordered_booking)
    assert expected["booking"] == b.CONFIRMED and expected["chargebacks"][0][0] == "won"
    assert _state(chaotic, chaotic_booking) == expected


def test_cancellation_refund_chaos_ends_refunded(tmp_path: Path, money_store: EventStore) -> None:
    env = make_env(tmp_path, store=money_store, deliver=False)
    booking_id = env.place()
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle_pending(payment_id_for(booking_id))
    env.gateway.deliver_pending()
    assert env.status(booking_id) == b.CONFIRMED
    env.world.bookings.cancel(env.world.renter, booking_id, "plans changed", NOW)
    payloads = list(env.delivered)
    with env.gateway.engine.connect() as conn:
        payloads += [
            r.encode()
            for r in conn.execute(
                sa.text("select payload from simulated_events where state = 'pending'")
            ).scalars()
        ]
    rng = random.Random(3)
    chaos = [p.decode() for p in payloads for _ in range(rng.randint(1, 5))]
    rng.shuffle(chaos)
    _deliver(env, chaos)
    assert env.status(booking_id) == b.REFUNDED


# -- faults over many bookings ---------------------------------------------------------------


def test_faults_over_1000_bookings_leave_no_double_charge_and_nothing_stuck(
    tmp_path: Path,
) -> None:
    _faults_over(tmp_path, None, 1000)  # the in-memory store: many bookings, quickly


def test_faults_on_a_real_store_leave_no_double_charge_and_nothing_stuck(
    tmp_path: Path, money_store: EventStore
) -> None:
    # Fewer bookings on SQLite and PostgreSQL: every save is a disk write or a round trip
    # there, and the suite has a time budget.
    _faults_over(tmp_path, money_store, 150)


# Bookings per listing: a calendar loads from its latest snapshot, which holds every booking
# of the listing, so 1,000 bookings of one listing spent a third of the test's CPU reading
# ever larger calendars, which the payments under test never look at.
PER_LISTING = 50


class StuckFromTheView(AllBookings):
    """`needing_attention` from the real payments view, caught up before each question:
    AllBookings named every booking, so each minute's reconciliation reloaded all of them
    (captured ones too), a quarter of this test's CPU."""

    def __init__(self, known: AllBookings, runner: ProjectionRunner) -> None:
        super().__init__()
        self.ids, self.intents = known.ids, known.intents
        self.runner = runner
        self.reader = PaymentsReader(runner.engine, runner.tables("payments"))

    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        self.runner.catch_up(["payments"])
        return self.reader.needing_attention(stuck_before, limit)


def _faults_over(tmp_path: Path, store: EventStore | None, count: int, ids_seed: int = 7) -> None:
    faults = Faults(seed=11, timeout_rate=0.2, error_rate=0.2, lost_reply_rate=0.2)
    env = make_env(
        tmp_path, store=store, deposit=None, faults=faults, auto_confirm=True, drop_rate=0.1
    )
    listings = [
        env.world.active_listing(quantity=PER_LISTING) for _ in range(-(-count // PER_LISTING))
    ]
    # Fixed booking ids: faults are drawn from (seed, what, attempt) and `what` names the
    # booking, so random ids made every run a different scenario.
    rng = random.Random(ids_seed)
    bookings = []
    for n in range(count):
        env.listing_id = listings[n // PER_LISTING]
        bookings.append(env.place(booking_id=UUID(int=rng.getrandbits(128))))
    for booking_id in bookings:
        env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.payments.stuck_after = timedelta(minutes=5)
    views = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    runner = ProjectionRunner(env.world.store, views, [PaymentsView()])
    runner.setup()
    env.payments.queries = StuckFromTheView(env.queries, runner)
    looked_at = 0
    # Reconciliation runs every minute while the 15 min hold lasts (minutes 6..14): one
    # booking was once still uncaptured after minute 13 in a full-suite run (not reproduced).
    for minute in range(6, 15):
        looked_at += env.payments.reconcile(NOW + timedelta(minutes=minute))
        env.gateway.deliver_pending()  # the processor retries deliveries that failed
    with env.gateway.engine.connect() as conn:
        intents = [
            json.loads(r)
            for r in conn.execute(
                sa.text("select data from simulated_objects where kind = 'payment_intent'")
            ).scalars()
        ]
    per_booking: dict[str, int] = {}
    for intent in intents:
        per_booking[intent["metadata"]["booking_id"]] = (
            per_booking.get(intent["metadata"]["booking_id"], 0) + 1
        )
    known = {str(x) for x in bookings}
    assert set(per_booking) <= known  # no charge without a booking
    assert max(per_booking.values()) == 1  # no double charge
    stuck = [x for x in bookings if env.payments.payment(x).charge["status"] != "captured"]
    assert stuck == []
    assert all(env.status(x) == b.CONFIRMED for x in bookings)
    assert 0 < looked_at < 9 * count  # the view named the stuck ones, not every booking
