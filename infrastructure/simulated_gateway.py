"""A payment processor stand-in for demos and tests: charges live in a table, and the
"card network" (dev endpoints or tests) settles them, notifying listeners like a webhook."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from application.payment_gateway import (
    ChargeRequest,
    ChargeResult,
    GatewayEvent,
    GatewayListener,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from domain.errors import ConflictError, NotFoundError
from domain.money import Money
from projections.base import write_transaction

metadata = sa.MetaData()
charges = sa.Table(
    "simulated_charges",
    metadata,
    sa.Column("charge_id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
    sa.Column("payment_id", sa.Uuid, nullable=False, index=True),
    sa.Column("booking_id", sa.Uuid, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("refunded", sa.BigInteger, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
refunds = sa.Table(
    "simulated_refunds",
    metadata,
    sa.Column("refund_id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
    sa.Column("charge_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
)


class SimulatedGateway(PaymentGateway):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with write_transaction(engine) as conn:  # BEGIN IMMEDIATE: SQLite waits for writers
            metadata.create_all(conn)
        self._listeners: list[GatewayListener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: GatewayListener) -> None:
        self._listeners.append(listener)

    def create_charge(self, request: ChargeRequest) -> ChargeResult:
        with self._lock, write_transaction(self.engine) as conn:
            row = conn.execute(
                sa.select(charges).where(charges.c.idempotency_key == request.idempotency_key)
            ).first()
            if row is None:
                charge_id = "sim_ch_" + secrets.token_hex(12)
                conn.execute(
                    charges.insert().values(
                        charge_id=charge_id,
                        idempotency_key=request.idempotency_key,
                        payment_id=request.payment_id,
                        booking_id=request.booking_id,
                        amount=request.amount.amount,
                        currency=request.amount.currency,
                        status="requires_confirmation",
                        refunded=0,
                        created_at=datetime.now(UTC),
                    )
                )
                return ChargeResult(charge_id, "requires_confirmation", f"{charge_id}_secret")
            return ChargeResult(row.charge_id, row.status, f"{row.charge_id}_secret")

    def refund(self, request: RefundRequest) -> RefundResult:
        with self._lock, write_transaction(self.engine) as conn:
            done = conn.execute(
                sa.select(refunds).where(refunds.c.idempotency_key == request.idempotency_key)
            ).first()
            if done is not None:
                return RefundResult(done.refund_id, "succeeded")
            charge = conn.execute(
                sa.select(charges).where(charges.c.charge_id == request.charge_id)
            ).first()
            if charge is None or charge.status != "succeeded":
                raise ConflictError("not_refundable", "only a succeeded charge can be refunded")
            if charge.refunded + request.amount.amount > charge.amount:
                raise ConflictError("over_refund", "a refund cannot exceed what was charged")
            refund_id = "sim_re_" + secrets.token_hex(12)
            conn.execute(
                refunds.insert().values(
                    refund_id=refund_id,
                    idempotency_key=request.idempotency_key,
                    charge_id=request.charge_id,
                    amount=request.amount.amount,
                )
            )
            conn.execute(
                charges.update()
                .where(charges.c.charge_id == request.charge_id)
                .values(refunded=charge.refunded + request.amount.amount)
            )
            return RefundResult(refund_id, "succeeded")

    # -- the card network's side (dev endpoints and tests) ---------------------------------

    def settle(self, payment_id: UUID, *, succeed: bool, reason: str = "") -> GatewayEvent:
        """Resolves the payment's pending charge and tells the listeners, once."""
        with self._lock, write_transaction(self.engine) as conn:
            row = conn.execute(
                sa.select(charges)
                .where(charges.c.payment_id == payment_id)
                .order_by(charges.c.created_at.desc())
            ).first()
            if row is None:
                raise NotFoundError("payment_not_found", f"payment {payment_id} not found")
            if row.status not in ("requires_confirmation", "processing"):
                raise ConflictError("payment_settled", f"the charge is already {row.status}")
            status = "succeeded" if succeed else "failed"
            conn.execute(
                charges.update().where(charges.c.charge_id == row.charge_id).values(status=status)
            )
        event = GatewayEvent(
            id="sim_evt_" + secrets.token_hex(12),
            type=f"charge.{status}",
            payment_id=payment_id,
            booking_id=row.booking_id,
            charge_id=row.charge_id,
            amount=Money(row.amount, row.currency),
            reason=reason or ("" if succeed else "card_declined"),
        )
        for listener in list(self._listeners):
            listener(event)
        return event

    def charge_status(self, payment_id: UUID) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(charges.c.status).where(charges.c.payment_id == payment_id)
            ).first()
        return None if row is None else str(row.status)
