"""A declined deposit hold: the booking does not confirm without its deposit; the renter may
confirm the hold with another card until the booking's hold on the units expires, after which
the captured charge goes back whole. On SQLite and PostgreSQL (`money_store`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from application.store import EventStore
from domain import booking as b
from domain.payment import payment_id_for
from tests.application.test_payments_flows import NOW, make_env


def test_the_booking_waits_for_its_deposit_and_a_retry_confirms_it(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.place()
    pid = payment_id_for(booking_id)
    env.payments.start_payment(env.world.renter, booking_id, NOW)

    env.gateway.settle(pid, succeed=False, reason="insufficient_funds", step="deposit")
    env.gateway.settle(pid, succeed=True)  # the charge goes through

    payment = env.payments.payment(booking_id)
    assert payment.charge["status"] == "captured"
    assert payment.deposit_hold["declined"] == "insufficient_funds"
    assert payment.deposit_hold["status"] == "none"
    assert env.status(booking_id) == b.PENDING_PAYMENT

    env.gateway.settle(pid, succeed=True, step="deposit")  # another card

    payment = env.payments.payment(booking_id)
    assert payment.deposit_hold["status"] == "authorized" and "declined" not in payment.deposit_hold
    assert env.status(booking_id) == b.CONFIRMED


def test_the_deposit_first_then_the_charge_confirms_too(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.place()
    pid = payment_id_for(booking_id)
    env.payments.start_payment(env.world.renter, booking_id, NOW)

    env.gateway.settle(pid, succeed=True, step="deposit")
    assert env.status(booking_id) == b.PENDING_PAYMENT  # no money yet
    env.gateway.settle(pid, succeed=True)

    assert env.status(booking_id) == b.CONFIRMED


def test_a_deposit_never_secured_lets_the_booking_lapse_and_refunds_the_charge(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store)
    booking_id = env.place()
    pid = payment_id_for(booking_id)
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(pid, succeed=False, step="deposit")
    env.gateway.settle(pid, succeed=True)
    expires_at = env.world.bookings.get(booking_id).deadline("expires_at")
    assert expires_at is not None

    env.world.bookings.expire(booking_id, expires_at + timedelta(seconds=1))

    payment = env.payments.payment(booking_id)
    assert payment.refunds["refund-lapsed"]["status"] == "succeeded"
    assert payment.refundable == 0 and payment.refunded == payment.charge["captured"]
    assert env.status(booking_id) in (b.CANCELLED, b.REFUNDED)
    again = env.payments.follow_up(booking_id, expires_at + timedelta(minutes=5))
    assert again == 0 and len(env.payments.payment(booking_id).refunds) == 1
