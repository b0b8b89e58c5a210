"""Payment's event classes keep the topics their stored events carry.

`Payment` is put together from parts in other modules (payment_charge.py, ...); its event
classes must still be `domain.payment:Payment.<Name>`, or events stored before the split
would no longer load and the views' topic filters would miss them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.store import EventStore
from domain.money import Money
from domain.payment import HELD, REQUESTED, Payment, payment_id_for

EVENT_NAMES = {
    "Created",
    "ChargeRequested",
    "OrderChargeJoined",
    "ChargeIntentRecorded",
    "ChargeAuthorized",
    "ChargeCaptured",
    "ChargeFailed",
    "RefundRequested",
    "RefundIdRecorded",
    "RefundParked",
    "RefundSucceeded",
    "RefundFailed",
    "UnknownRefundFailed",
    "DepositIntentRecorded",
    "DepositAuthorized",
    "DepositCaptured",
    "DepositReleased",
    "DepositExpired",
    "DepositDeclined",
    "TransferScheduled",
    "TransferIdRecorded",
    "TransferSent",
    "TransferReversalParked",
    "TransferReversed",
    "ChargebackOpened",
    "ChargebackFundsWithdrawn",
    "ChargebackFundsReinstated",
    "ChargebackWon",
    "ChargebackLost",
    "PromotionNoted",  # coupons: a platform-funded discount, noted and then funded
    "PromotionFunded",
}
BOOKING = UUID("11111111-1111-1111-1111-111111111111")
# Written by the code before the split (timestamps left out: they are added below).
STORED_BEFORE_THE_SPLIT: list[tuple[str, dict[str, Any]]] = [
    (
        "domain.payment:Payment.Created",
        {
            "originator_topic": "domain.payment:Payment",
            "booking_id": {"_type_": "uuid_hex", "_data_": "11111111111111111111111111111111"},
            "owner_id": {"_type_": "uuid_hex", "_data_": "22222222222222222222222222222222"},
            "renter_id": {"_type_": "uuid_hex", "_data_": "33333333333333333333333333333333"},
            "currency": "EUR",
            "total": 10000,
            "owner_payout": 8000,
            "service_fee": 1200,
            "commission": 800,
            "tax": 0,
            "deposit": 5000,
            "by": {"_type_": "uuid_hex", "_data_": "33333333333333333333333333333333"},
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.ChargeRequested",
        {
            "idempotency_key": "key-1",
            "by": {"_type_": "uuid_hex", "_data_": "33333333333333333333333333333333"},
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.ChargeCaptured",
        {
            "event_id": "evt_1",
            "intent_id": "pi_1",
            "amount": 10000,
            "fee": 300,
            "owner_share": 8000,
            "platform_share": 2000,
            "booking_id": {"_type_": "uuid_hex", "_data_": "11111111111111111111111111111111"},
            "owner_id": {"_type_": "uuid_hex", "_data_": "22222222222222222222222222222222"},
            "currency": "EUR",
            "owner_payable": 8000,
            "owner_receivable": 0,
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.RefundRequested",
        {
            "refund_id": "refund-1",
            "amount": 2500,
            "owner_portion": 2000,
            "platform_portion": 500,
            "reason": "broken",
            "by": {"_type_": "uuid_hex", "_data_": "33333333333333333333333333333333"},
            "role": "renter",
            "booking_id": {"_type_": "uuid_hex", "_data_": "11111111111111111111111111111111"},
            "owner_id": {"_type_": "uuid_hex", "_data_": "22222222222222222222222222222222"},
            "currency": "EUR",
            "owner_payable": -2000,
            "owner_receivable": 0,
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.DepositAuthorized",
        {
            "event_id": "evt_2",
            "intent_id": "pi_2",
            "amount": 5000,
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
            "booking_id": {"_type_": "uuid_hex", "_data_": "11111111111111111111111111111111"},
            "owner_id": {"_type_": "uuid_hex", "_data_": "22222222222222222222222222222222"},
            "currency": "EUR",
        },
    ),
    (
        "domain.payment:Payment.TransferScheduled",
        {
            "due_at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
            "by": {"_type_": "uuid_hex", "_data_": "33333333333333333333333333333333"},
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.TransferSent",
        {
            "event_id": "evt_3",
            "transfer_id": "tr_1",
            "amount": 1000,
            "booking_id": {"_type_": "uuid_hex", "_data_": "11111111111111111111111111111111"},
            "owner_id": {"_type_": "uuid_hex", "_data_": "22222222222222222222222222222222"},
            "currency": "EUR",
            "owner_payable": -1000,
            "owner_receivable": 0,
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
    (
        "domain.payment:Payment.ChargebackOpened",
        {
            "event_id": "evt_4",
            "dispute_id": "dp_1",
            "amount": 500,
            "fee": 15,
            "reason": "fraud",
            "at": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        },
    ),
]


def test_every_payment_event_class_keeps_its_topic() -> None:
    found = {
        name
        for name, value in vars(Payment).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event"
    }

    assert found == EVENT_NAMES
    for name in EVENT_NAMES:
        assert get_topic(getattr(Payment, name)) == f"domain.payment:Payment.{name}"


def test_events_stored_before_the_split_still_load() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    payment_id = payment_id_for(BOOKING)
    stamp = {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"}
    store.recorder.insert_events(
        [
            StoredEvent(
                originator_id=payment_id,
                originator_version=version,
                topic=topic,
                state=json.dumps({"timestamp": stamp, **state}).encode(),
            )
            for version, (topic, state) in enumerate(STORED_BEFORE_THE_SPLIT, start=1)
        ]
    )

    payment: Payment = store.repository.get(payment_id)

    assert payment.version == len(STORED_BEFORE_THE_SPLIT)
    assert payment.charge["status"] == "captured" and payment.charge["fee"] == 300
    assert payment.refunds["refund-1"]["status"] == REQUESTED
    assert payment.deposit_hold["status"] == HELD and payment.deposit_capturable == 5_000
    assert payment.transfers["tr_1"]["status"] == "sent"
    assert payment.chargebacks["dp_1"]["status"] == "open"
    assert payment.owner_balance == 8_000 - 2_000 - 1_000
    assert payment.updated_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_the_same_commands_today_store_the_same_topics_and_state() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    owner = UUID("22222222-2222-2222-2222-222222222222")
    renter = UUID("33333333-3333-3333-3333-333333333333")
    quote = {"currency": "EUR", "total": 10_000, "owner_payout": 8_000}
    quote |= {"service_fee": 1_200, "commission": 800, "tax": 0}
    payment = Payment.open(BOOKING, owner, renter, quote, Money(5_000, "EUR"), renter, at)
    payment.request_charge("key-1", renter, at)
    payment.capture_charge("evt_1", "pi_1", Money(10_000, "EUR"), Money(300, "EUR"), at)
    payment.request_refund("refund-1", Money(2_500, "EUR"), "broken", renter, "renter", at)
    payment.authorize_deposit("evt_2", "pi_2", Money(5_000, "EUR"), at)
    payment.schedule_transfer(at, renter, at)
    payment.record_transfer_sent("evt_3", "tr_1", Money(1_000, "EUR"), at)
    payment.open_chargeback("evt_4", "dp_1", Money(500, "EUR"), Money(15, "EUR"), "fraud", at)

    stored = [store.mapper.to_stored_event(e) for e in payment.collect_events()]

    today = [(s.topic, json.loads(s.state)) for s in stored]
    for _, state in today:
        del state["timestamp"]
    assert today == STORED_BEFORE_THE_SPLIT
