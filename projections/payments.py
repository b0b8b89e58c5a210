"""The payments and payouts view: one row per booking with its money at the processor.

Fed by three streams per booking (Booking, Payment, the owner's OwnerAccount), so each row
keeps the version it has seen of the booking and of the payment stream and ignores replays.
Also: processor ids (intents) → payment, for disputes that carry no metadata; and owners'
connected accounts, which gate payouts. `PaymentsReader` (payments_reader.py) answers the
payments use cases and the payouts endpoint from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
)

from domain import booking as b
from domain.booking import PAYOUT_DELAY
from domain.booking import Booking as _Booking
from domain.owner_account import OwnerAccount as _OwnerAccount
from domain.payment import Payment as _Payment
from projections.base import Projection, upsert
from projections.bookings import STATUS_AFTER
from projections.event_kinds import Kinds
from projections.folding import load_rows
from projections.listings import parse_instant

Booking: Any = _Booking
Payment: Any = _Payment
OwnerAccount: Any = _OwnerAccount

BOOKING_EVENTS = (Booking.Placed, *STATUS_AFTER)
PAYMENT_EVENTS = tuple(
    getattr(Payment, name)
    for name in [
        "Created",
        "ChargeRequested",
        "ChargeIntentRecorded",
        "ChargeAuthorized",
        "ChargeCaptured",
        "ChargeFailed",
        "RefundRequested",
        "RefundSucceeded",
        "RefundFailed",
        "DepositIntentRecorded",
        "DepositAuthorized",
        "DepositCaptured",
        "DepositReleased",
        "DepositExpired",
        "DepositDeclined",
        "TransferScheduled",
        "TransferIdRecorded",
        "TransferSent",
        "TransferReversed",
        "ChargebackOpened",
        "ChargebackWon",
        "ChargebackLost",
    ]
)
ACCOUNT_EVENTS = (OwnerAccount.Opened, OwnerAccount.StatusUpdated)
TOPICS = tuple(get_topic(c) for c in (*BOOKING_EVENTS, *PAYMENT_EVENTS, *ACCOUNT_EVENTS))
is_booking, is_payment = Kinds(*BOOKING_EVENTS), Kinds(*PAYMENT_EVENTS)
is_account = Kinds(*ACCOUNT_EVENTS)
ACTIVE = (b.PENDING_PAYMENT, b.CONFIRMED, b.IN_PROGRESS, b.AWAITING_RETURN_INSPECTION)


class PaymentsView(Projection):
    name = "payments"
    topics = TOPICS
    reads_personal = frozenset[str]()  # ids, money and statuses only
    version = 2  # 2: processor ids widened to 255 (Stripe allows ids that long)
    folds_by = (("payments", "payment_id"),)  # payment events find their row by it

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        payments = Table(
            f"payments{suffix}",
            metadata,
            Column("booking_id", Uuid, primary_key=True),
            Column("payment_id", Uuid, index=True),
            Column("booking_version", Integer, nullable=False),
            Column("payment_version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False, index=True),
            Column("renter_id", Uuid, nullable=False),
            Column("listing_id", Uuid, nullable=False),
            Column("currency", String(3), nullable=False),
            Column("total", BigInteger, nullable=False),
            Column("owner_payout", BigInteger, nullable=False),
            Column("booking_status", String(40), nullable=False),
            Column("charge_status", String(20), nullable=False),
            Column("captured", BigInteger, nullable=False),
            Column("refunded", BigInteger, nullable=False),
            Column("refund_requested", BigInteger, nullable=False),
            Column("refunds_pending", Integer, nullable=False),
            Column("refund_due", BigInteger, nullable=False),
            Column("deposit", BigInteger, nullable=False),
            Column("deposit_status", String(20), nullable=False),
            Column("deposit_captured", BigInteger, nullable=False),
            Column("payout_at", DateTime(timezone=True), index=True),
            Column("payout_status", String(20), nullable=False),
            Column("paid_out", BigInteger, nullable=False),
            Column("paid_out_at", DateTime(timezone=True)),
            Column("chargeback_status", String(20)),
            Column("in_flight", Boolean, nullable=False),
            Column("urgent", Boolean, nullable=False, index=True),
            Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
        )
        refs = Table(
            f"payment_refs{suffix}",
            metadata,
            # the processor's ids, not ours: Stripe documents them as up to 255 characters
            Column("processor_id", String(255), primary_key=True),
            Column("payment_id", Uuid, nullable=False),
        )
        accounts = Table(
            f"owner_accounts{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("owner_id", Uuid, nullable=False, index=True),
            Column("account_id", String(255), nullable=False, index=True),
            Column("payouts_enabled", Boolean, nullable=False),
            Column("version", Integer, nullable=False),
        )
        return {"payments": payments, "refs": refs, "accounts": accounts}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        table = tables["payments"]
        page = cast(Sequence[tuple[Any, int]], events)  # the kind checks below do not narrow
        bookings = {e.originator_id for e, _ in page if is_booking(e)}
        bookings |= {e.booking_id for e, _ in page if isinstance(e, Payment.Created)}
        payments = {e.originator_id for e, _ in page if is_payment(e)}
        by_booking = load_rows(conn, table, bookings, key="booking_id")
        by_payment = {
            r["payment_id"]: r for r in load_rows(conn, table, payments, key="payment_id").values()
        }
        for loaded in list(by_payment.values()):
            by_booking.setdefault(loaded["booking_id"], loaded)
            by_payment[loaded["payment_id"]] = by_booking[loaded["booking_id"]]
        changed: dict[UUID, dict[str, Any]] = {}
        refs: list[dict[str, Any]] = []
        accounts: list[dict[str, Any]] = []
        for event, _ in page:
            row: dict[str, Any] | None
            if is_booking(event):
                row = _booking_event(by_booking.get(event.originator_id), event)
                if row is not None:
                    by_booking[row["booking_id"]] = changed[row["booking_id"]] = row
                    if row["payment_id"] is not None:
                        by_payment[row["payment_id"]] = row
            elif is_payment(event):
                if isinstance(event, Payment.Created):
                    base = by_booking.get(event.booking_id)
                    if base is not None:
                        base["payment_id"] = event.originator_id
                        by_payment[event.originator_id] = base
                row = by_payment.get(event.originator_id)
                if row is not None and _payment_event(row, event, refs):
                    changed[row["booking_id"]] = row
            elif is_account(event):
                accounts.append(_account_event(conn, tables["accounts"], event, accounts))
        for done in changed.values():
            _flags(done)
        upsert(conn, table, changed.values())
        if refs:
            upsert(conn, tables["refs"], refs)
        if accounts:
            upsert(conn, tables["accounts"], accounts, newer="version")


def _at(event: Any) -> datetime:
    at = parse_instant(getattr(event, "at", None) or event.timestamp)
    assert at is not None
    return at


def _booking_event(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    version = event.originator_version
    if isinstance(event, Booking.Placed):
        if row is not None:
            return None
        start_at = parse_instant(event.start_at)
        assert start_at is not None
        quote = event.quote
        deposit = int((event.deposit or {}).get("amount", 0))
        return {
            "booking_id": event.originator_id,
            "payment_id": None,
            "booking_version": version,
            "payment_version": 0,
            "owner_id": event.owner_id,
            "renter_id": event.renter_id,
            "listing_id": event.listing_id,
            "currency": str(quote["currency"]),
            "total": int(quote["total"]),
            "owner_payout": int(quote["owner_payout"]),
            "booking_status": event.status,
            "charge_status": "none",
            "captured": 0,
            "refunded": 0,
            "refund_requested": 0,
            "refunds_pending": 0,
            "refund_due": 0,
            "deposit": deposit,
            "deposit_status": "none",
            "deposit_captured": 0,
            "payout_at": start_at + PAYOUT_DELAY,
            "payout_status": "none",
            "paid_out": 0,
            "paid_out_at": None,
            "chargeback_status": None,
            "updated_at": _at(event),
        }
    if row is None or row["booking_version"] >= version:
        return None
    row = dict(row)
    if isinstance(event, Booking.Cancelled) and row["booking_status"] in (
        b.CONFIRMED,
        b.IN_PROGRESS,
    ):
        row["refund_due"] = int((event.refund or {}).get("amount", 0))
    row["booking_status"] = STATUS_AFTER.get(type(event), row["booking_status"])
    row.update(booking_version=version, updated_at=_at(event))
    return row


def _payment_event(row: dict[str, Any], event: Any, refs: list[dict[str, Any]]) -> bool:
    version = event.originator_version
    if row["payment_version"] >= version:
        return False
    name = type(event).__name__
    pid = event.originator_id
    if name in ("ChargeIntentRecorded", "DepositIntentRecorded", "ChargeCaptured"):
        refs.append({"processor_id": event.intent_id, "payment_id": pid})
    if name == "ChargeRequested" and row["charge_status"] == "none":
        row["charge_status"] = "requested"
    elif name == "ChargeAuthorized":
        row["charge_status"] = "authorized"
    elif name == "ChargeCaptured":
        row.update(charge_status="captured", captured=event.amount)
    elif name == "ChargeFailed" and row["charge_status"] != "captured":
        row["charge_status"] = "failed"
    elif name == "RefundRequested":
        row["refund_requested"] += event.amount
        row["refunds_pending"] += 1
    elif name == "RefundSucceeded":
        row["refunded"] += event.amount
        row["refunds_pending"] = max(0, row["refunds_pending"] - 1)
    elif name == "RefundFailed":
        row["refund_requested"] -= event.amount
        if event.stage == "succeeded":
            row["refunded"] -= event.amount
        else:
            row["refunds_pending"] = max(0, row["refunds_pending"] - 1)
    elif name == "DepositAuthorized" and row["deposit_status"] in ("none", "declined"):
        row["deposit_status"] = "authorized"
    elif name == "DepositDeclined" and row["deposit_status"] == "none":
        row["deposit_status"] = "declined"  # the renter may retry with another card
    elif name == "DepositCaptured":
        row["deposit_captured"] += event.amount
    elif name in ("DepositReleased", "DepositExpired"):
        row["deposit_status"] = "released" if name == "DepositReleased" else "expired"
    elif name == "TransferScheduled" and row["payout_status"] == "none":
        row["payout_status"] = "scheduled"
    elif name == "TransferIdRecorded" and row["payout_status"] != "sent":
        row["payout_status"] = "pending"
    elif name == "TransferSent":
        row["payout_status"] = "sent"
        row["paid_out"] += event.amount
        row["paid_out_at"] = _at(event)
    elif name == "TransferReversed":
        row["paid_out"] -= event.amount
        row["payout_status"] = "reversed" if row["paid_out"] <= 0 else "sent"
    elif name == "ChargebackOpened":
        row["chargeback_status"] = "open"
    elif name in ("ChargebackWon", "ChargebackLost"):
        row["chargeback_status"] = name.removeprefix("Chargeback").lower()
    row.update(payment_version=version, updated_at=_at(event))
    return True


def _flags(row: dict[str, Any]) -> None:
    status = row["booking_status"]
    deposit_held = row["deposit"] > 0 and row["deposit_status"] in (
        "none",
        "authorized",
        "declined",
    )
    deposit_held = deposit_held and row["payment_id"] is not None
    row["urgent"] = bool(
        (status in (b.COMPLETED, b.CANCELLED) and deposit_held)
        or (status == b.COMPLETED and row["payout_status"] == "sent")
        or (
            status == b.CANCELLED
            and row["captured"] > 0
            and row["refund_due"] > row["refund_requested"]
        )
        or (status == b.CANCELLED and row["charge_status"] in ("requested", "authorized"))
        or (  # lapsed waiting for its deposit: the charge goes back
            status == b.CANCELLED
            and row["deposit_status"] == "declined"
            and row["captured"] > row["refund_requested"]
        )
    )
    row["in_flight"] = bool(
        (status in ACTIVE and row["charge_status"] in ("requested", "authorized"))
        or row["refunds_pending"] > 0
        or row["payout_status"] == "pending"
        or (status in ACTIVE and deposit_held and row["charge_status"] != "failed")
    )


def _account_event(
    conn: Connection, table: Table, event: Any, pending: list[dict[str, Any]]
) -> dict[str, Any]:
    if isinstance(event, OwnerAccount.Opened):
        return {
            "id": event.originator_id,
            "owner_id": event.owner_id,
            "account_id": event.account_id,
            "payouts_enabled": False,
            "version": event.originator_version,
        }
    known = [r for r in pending if r["id"] == event.originator_id]
    row = (
        known[-1]
        if known
        else load_rows(conn, table, [event.originator_id]).get(event.originator_id)
    )
    assert row is not None
    return {**row, "payouts_enabled": event.payouts_enabled, "version": event.originator_version}
