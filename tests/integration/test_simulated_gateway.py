"""The simulated gateway behaves like Stripe from the application's side: idempotency under
lost replies, reproducible faults, and webhooks that verify with `verify_and_parse`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from application.payment_gateway import (
    AccountRequest,
    CaptureRequest,
    ChargeRequest,
    DepositRequest,
    GatewayDeclined,
    GatewayError,
    GatewayEvent,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    RefundRequest,
    ReleaseRequest,
    TransferRequest,
    TransferReversalRequest,
    idempotency_key,
    payment_id_for,
)
from domain.errors import ConflictError, NotFoundError
from domain.money import Money
from infrastructure.simulated_gateway import Faults, SimulatedGateway
from infrastructure.stripe_events import verify_and_parse
from infrastructure.views_db import create_views_engine

SECRET = "whsec_sim_test"
EUR = "EUR"


class Inbox:
    """The webhook endpoint's stand-in: verifies every delivery like the real one."""

    def __init__(self) -> None:
        self.events: list[GatewayEvent] = []

    def __call__(self, payload: bytes, signature: str) -> None:
        event = verify_and_parse(payload, signature, SECRET)
        assert event is not None
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


Make = Callable[..., tuple[SimulatedGateway, Inbox]]


@pytest.fixture
def make(tmp_path: Path) -> Make:
    def build(name: str = "sim", **options: object) -> tuple[SimulatedGateway, Inbox]:
        engine = create_views_engine(f"sqlite:///{tmp_path / name}.db")
        gateway = SimulatedGateway(engine, webhook_secret=SECRET, **options)  # type: ignore[arg-type]
        inbox = Inbox()
        gateway.deliver_webhooks_to(inbox)
        return gateway, inbox

    return build


def charge(booking: UUID, amount: int = 10_000, payment_method: str | None = None) -> ChargeRequest:
    return ChargeRequest(
        payment_id_for(booking),
        booking,
        Money(amount, EUR),
        idempotency_key(booking, "charge"),
        payment_method=payment_method,
    )


def test_a_settled_charge_is_reported_by_a_signed_webhook_with_ids_and_fee(make: Make) -> None:
    gateway, inbox = make()
    booking = uuid4()
    result = gateway.create_charge(charge(booking))
    assert result.status == "requires_confirmation" and result.client_secret
    assert inbox.events == []  # nothing happens until the card network acts
    gateway.settle(payment_id_for(booking), succeed=True)
    [event] = inbox.events
    assert event.type == "payment_intent.succeeded" and event.intent_id == result.intent_id
    assert (event.payment_id, event.booking_id, event.step) == (
        payment_id_for(booking),
        booking,
        "charge",
    )
    assert event.amount == Money(10_000, EUR) and event.fee == Money(175, EUR)
    assert event.charge_id is not None and event.charge_id.startswith("ch_")
    with pytest.raises(ConflictError):
        gateway.settle(payment_id_for(booking), succeed=True)
    with pytest.raises(NotFoundError):
        gateway.settle(uuid4(), succeed=True)


def test_a_declined_settlement_reports_the_reason(make: Make) -> None:
    gateway, inbox = make()
    booking = uuid4()
    gateway.create_charge(charge(booking))
    gateway.settle(payment_id_for(booking), succeed=False, reason="insufficient_funds")
    [event] = inbox.events
    assert (event.type, event.reason) == ("payment_intent.payment_failed", "insufficient_funds")


def test_the_same_key_gives_the_same_charge_and_other_parameters_are_refused(make: Make) -> None:
    gateway, _ = make()
    booking = uuid4()
    first = gateway.create_charge(charge(booking))
    assert gateway.create_charge(charge(booking)) == first
    with pytest.raises(GatewayRejected, match="idempotency"):
        gateway.create_charge(charge(booking, amount=1))


def test_a_lost_reply_did_the_work_once_and_the_retry_gets_the_answer(make: Make) -> None:
    gateway, inbox = make(faults=Faults(seed=3, lost_reply_rate=1.0), auto_confirm=True)
    booking = uuid4()
    with pytest.raises(GatewayUnavailable):
        gateway.create_charge(charge(booking))
    assert inbox.types() == ["payment_intent.succeeded"]  # the money moved
    gateway.faults = Faults(seed=3)
    result = gateway.create_charge(charge(booking))
    assert result.intent_id == inbox.events[0].intent_id and result.status == "succeeded"
    assert inbox.types() == ["payment_intent.succeeded"]  # and only once


def test_partial_refunds_cannot_exceed_the_capture_even_under_lost_replies(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True)
    booking = uuid4()
    intent = gateway.create_charge(charge(booking)).intent_id
    payment = payment_id_for(booking)

    def refund(step: str, amount: int) -> RefundRequest:
        return RefundRequest(
            payment, booking, intent, Money(amount, EUR), idempotency_key(booking, step)
        )

    gateway.faults = Faults(lost_reply_rate=1.0)
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund("refund-1", 6_000))
    gateway.faults = Faults()
    first = gateway.refund(refund("refund-1", 6_000))  # the retry: same refund
    second = gateway.refund(refund("refund-2", 4_000))
    assert first.refund_id != second.refund_id
    with pytest.raises(GatewayRejected, match="exceed"):
        gateway.refund(refund("refund-3", 1))
    refunded = [e for e in inbox.events if e.type == "charge.refunded"]
    assert [e.amount for e in refunded] == [Money(6_000, EUR), Money(10_000, EUR)]
    assert [e.refund_id for e in refunded] == [first.refund_id, second.refund_id]
    assert gateway.retrieve("charge", refunded[0].charge_id or "").amount_refunded == Money(
        10_000, EUR
    )


def test_the_deposit_is_authorised_partly_captured_and_the_rest_released(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True)
    booking = uuid4()
    payment = payment_id_for(booking)
    deposit = gateway.authorize_deposit(
        DepositRequest(payment, booking, Money(30_000, EUR), idempotency_key(booking, "deposit"))
    )
    assert deposit.status == "requires_capture"
    assert inbox.events[-1].type == "payment_intent.amount_capturable_updated"
    with pytest.raises(GatewayRejected):
        gateway.capture_deposit(
            CaptureRequest(payment, booking, deposit.intent_id, "k-over", Money(30_001, EUR))
        )
    captured = gateway.capture_deposit(
        CaptureRequest(payment, booking, deposit.intent_id, "k-cap", Money(12_000, EUR))
    )
    assert captured.amount_captured == Money(12_000, EUR)
    assert inbox.events[-1].type == "payment_intent.succeeded"
    assert inbox.events[-1].amount == Money(12_000, EUR)
    with pytest.raises(GatewayRejected):  # a captured intent cannot be released
        gateway.release_deposit(ReleaseRequest(payment, booking, deposit.intent_id, "k-rel"))


def test_releasing_an_untouched_deposit_cancels_it(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True)
    booking = uuid4()
    payment = payment_id_for(booking)
    deposit = gateway.authorize_deposit(
        DepositRequest(payment, booking, Money(30_000, EUR), idempotency_key(booking, "deposit"))
    )
    released = gateway.release_deposit(ReleaseRequest(payment, booking, deposit.intent_id, "k"))
    assert released.status == "canceled"
    assert (inbox.events[-1].type, inbox.events[-1].step) == ("payment_intent.canceled", "deposit")


def test_owner_payout_needs_onboarding_then_transfers_and_reverses(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True)
    booking, owner = uuid4(), uuid4()
    payment = payment_id_for(booking)
    gateway.create_charge(charge(booking))
    source = inbox.events[-1].charge_id or ""
    account = gateway.create_connected_account(AccountRequest(owner, "o@x.test", "k-acct"))
    transfer = TransferRequest(
        payment,
        booking,
        Money(8_000, EUR),
        account.account_id,
        source,
        idempotency_key(booking, "payout"),
    )
    with pytest.raises(GatewayRejected, match="onboarded"):
        gateway.transfer_to_owner(transfer)
    gateway.complete_onboarding(account.account_id)
    assert inbox.events[-1].type == "account.updated" and inbox.events[-1].owner_id == owner
    assert inbox.events[-1].payouts_enabled
    sent = gateway.transfer_to_owner(transfer)
    created = inbox.events[-1]
    assert (created.type, created.transfer_id, created.account_id, created.charge_id) == (
        "transfer.created",
        sent.transfer_id,
        account.account_id,
        source,
    )
    gateway.reverse_transfer(
        TransferReversalRequest(payment, booking, sent.transfer_id, Money(3_000, EUR), "k-rev")
    )
    assert (inbox.events[-1].type, inbox.events[-1].status) == (
        "transfer.reversed",
        "partially_reversed",
    )


def test_a_chargeback_is_opened_withdrawn_and_won(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True)
    booking = uuid4()
    intent = gateway.create_charge(charge(booking)).intent_id
    dispute = gateway.open_dispute(intent)
    gateway.close_dispute(dispute, won=True)
    disputes = [e for e in inbox.events if e.type.startswith("charge.dispute.")]
    assert [(e.type, e.fee) for e in disputes] == [
        ("charge.dispute.created", None),
        ("charge.dispute.funds_withdrawn", Money(1500, EUR)),
        ("charge.dispute.funds_reinstated", Money(0, EUR)),
        ("charge.dispute.closed", None),
    ]
    assert disputes[-1].status == "won" and disputes[-1].intent_id == intent


def test_declining_cards_and_rates(make: Make) -> None:
    gateway, inbox = make()
    with pytest.raises(GatewayDeclined):
        gateway.create_charge(charge(uuid4(), payment_method="pm_card_chargeDeclined"))
    assert inbox.types() == ["payment_intent.payment_failed"]
    declining, inbox2 = make("declining", faults=Faults(decline_rate=1.0), auto_confirm=True)
    declined = declining.create_charge(charge(uuid4()))  # confirmed by the renter's device
    assert declined.status == "requires_payment_method"
    assert inbox2.types() == ["payment_intent.payment_failed"]


def _run(gateway: SimulatedGateway, bookings: list[UUID]) -> list[str]:
    outcomes = []
    for booking in bookings:
        for _ in range(5):
            try:
                result = gateway.create_charge(charge(booking))
                outcomes.append(f"{result.intent_id}:{result.status}")
                break
            except GatewayError as error:
                outcomes.append(type(error).__name__)
    return outcomes


def test_faults_are_reproducible_with_a_seed_and_never_double_charge(make: Make) -> None:
    faults = Faults(
        seed=42, decline_rate=0.2, error_rate=0.2, timeout_rate=0.2, lost_reply_rate=0.2
    )
    bookings = [UUID(int=i) for i in range(40)]
    a, inbox_a = make("a", faults=faults, auto_confirm=True)
    b, inbox_b = make("b", faults=faults, auto_confirm=True)
    first, second = _run(a, bookings), _run(b, bookings)
    assert first == second
    assert [e.id for e in inbox_a.events] == [e.id for e in inbox_b.events]
    kinds = set(first)
    assert {"GatewayUnavailable", "GatewayTimeout"} <= kinds
    outcomes = [e for e in inbox_a.events if e.type.startswith("payment_intent.")]
    per_booking = [e.booking_id for e in outcomes]
    assert len(per_booking) == len(set(per_booking))  # one charge attempt per booking
    assert len(outcomes) <= len(bookings)
    other, _ = make(
        "c", faults=Faults(seed=43, error_rate=0.2, timeout_rate=0.2), auto_confirm=True
    )
    assert _run(other, bookings) != first


def test_a_timeout_may_come_before_or_after_the_work(make: Make) -> None:
    gateway, inbox = make(faults=Faults(seed=1, timeout_rate=1.0), auto_confirm=True)
    done = 0
    for i in range(20):
        before = len(inbox.events)
        with pytest.raises(GatewayTimeout):
            gateway.create_charge(charge(UUID(int=i)))
        done += len(inbox.events) - before
    assert 0 < done < 20


def test_duplicated_and_reordered_deliveries_all_verify(make: Make) -> None:
    faults = Faults(seed=7, duplicate_rate=0.5, reorder=True)
    gateway, inbox = make(faults=faults, auto_confirm=True, deliver_immediately=False)
    bookings = [uuid4() for _ in range(10)]
    for booking in bookings:
        gateway.create_charge(charge(booking))
    assert inbox.events == []
    delivered = gateway.deliver_pending()
    assert delivered == len(inbox.events) > 10
    assert {e.booking_id for e in inbox.events} == set(bookings)
    arrival = [bookings.index(e.booking_id) for e in inbox.events if e.booking_id]
    assert arrival != sorted(arrival)
    assert gateway.deliver_pending() == 0  # delivered events are not sent again


def test_a_failing_receiver_gets_the_event_again_later(make: Make) -> None:
    gateway, inbox = make(auto_confirm=True, deliver_immediately=False)
    failures: list[int] = []

    def flaky(payload: bytes, signature: str) -> None:
        if not failures:
            failures.append(1)
            raise RuntimeError("endpoint down")

    gateway.deliver_webhooks_to(flaky)
    gateway.create_charge(charge(uuid4()))
    gateway.deliver_pending()
    gateway.deliver_pending()
    assert len(inbox.events) == 2 and inbox.events[0].id == inbox.events[1].id


def test_the_legacy_listener_hears_charge_outcomes_by_their_old_names(make: Make) -> None:
    gateway, _ = make()
    heard: list[GatewayEvent] = []
    gateway.subscribe(heard.append)
    booking = uuid4()
    gateway.create_charge(charge(booking))
    gateway.settle(payment_id_for(booking), succeed=True)
    assert [e.type for e in heard] == ["charge.succeeded"]
