"""A deposit capture reported twice (the processor's webhook after reconciliation already
synthesised it under its own id) is counted once: `amount_received` is the intent's total."""

from __future__ import annotations

from pathlib import Path

from application.payment_gateway import GatewayEvent
from domain.money import Money
from tests.application.test_payments_flows import NOW, make_env


def test_a_deposit_capture_reported_twice_is_counted_once(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    booking_id = env.paid()  # the charge and the deposit hold
    env.payments.capture_deposit(
        booking_id, Money(8_000, "EUR"), "burn mark", by=env.world.admin, at=NOW
    )
    payment = env.payments.payment(booking_id)
    intent = payment.deposit_hold["intent_id"]
    again = GatewayEvent(
        f"reconcile:{intent}:succeeded",
        "payment_intent.succeeded",
        payment_id=payment.id,
        booking_id=booking_id,
        charge_id=None,
        amount=Money(8_000, "EUR"),
        object_id=intent,
        intent_id=intent,
        step="deposit",
        status="succeeded",
    )
    env.payments.handle_event(again, NOW)
    hold = env.payments.payment(booking_id).deposit_hold
    assert (hold["captured"], hold["released"], hold["status"]) == (8_000, 12_000, "released")
