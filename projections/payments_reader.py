"""Reading the payments view: what the payments use cases ask (`PaymentQueries`) and the
owner's payouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, or_, select

from domain.payment_queries import PAYOUT_STATUSES, PaymentQueries
from projections.base import ViewTables
from projections.listings import utc
from projections.payments import PaymentsView


class PaymentsReader(PaymentQueries):
    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(PaymentsView())

    def payment_for(self, processor_id: str) -> UUID | None:
        refs = self.tables["refs"]
        with self.engine.connect() as conn:
            found = conn.execute(
                select(refs.c.payment_id).where(refs.c.processor_id == processor_id)
            ).scalar()
        return found

    def of_booking(self, booking_id: UUID) -> dict[str, Any] | None:
        """The booking's money as the payments view has it (None before it is paid)."""
        p = self.tables["payments"]
        with self.engine.connect() as conn:
            row = conn.execute(select(p).where(p.c.booking_id == booking_id)).mappings().first()
        return dict(row) if row is not None else None

    def owner_for_account(self, account_id: str) -> UUID | None:
        accounts = self.tables["accounts"]
        with self.engine.connect() as conn:
            return conn.execute(
                select(accounts.c.owner_id).where(accounts.c.account_id == account_id)
            ).scalar()

    def due_payouts(self, at: datetime, limit: int, owner_id: UUID | None = None) -> list[UUID]:
        p, a = self.tables["payments"], self.tables["accounts"]
        stmt = (
            select(p.c.booking_id)
            .join(a, a.c.owner_id == p.c.owner_id)
            .where(
                a.c.payouts_enabled.is_(True),
                p.c.captured > 0,
                p.c.payout_status.in_(("none", "scheduled")),
                p.c.payout_at <= at,
                p.c.booking_status.in_(sorted(PAYOUT_STATUSES)),
            )
            .order_by(p.c.payout_at, p.c.booking_id)
            .limit(limit)
        )
        if owner_id is not None:
            stmt = stmt.where(p.c.owner_id == owner_id)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        p = self.tables["payments"]
        stmt = (
            select(p.c.booking_id)
            .where(or_(p.c.urgent.is_(True), and_(p.c.in_flight, p.c.updated_at <= stuck_before)))
            .order_by(p.c.updated_at, p.c.booking_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def payouts(
        self, owner_id: UUID, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> list[dict[str, Any]]:
        """The owner's paid bookings, newest payout time first."""
        p = self.tables["payments"]
        stmt = select(p).where(p.c.owner_id == owner_id, p.c.captured > 0)
        if after is not None:
            at, booking_id = after
            stmt = stmt.where(
                or_(p.c.payout_at < at, and_(p.c.payout_at == at, p.c.booking_id < booking_id))
            )
        stmt = stmt.order_by(p.c.payout_at.desc(), p.c.booking_id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        for row in rows:
            row["payout_at"] = utc(row["payout_at"])
            row["paid_out_at"] = utc(row["paid_out_at"])
        return rows

    def by_booking(self, booking_id: UUID) -> dict[str, Any] | None:
        p = self.tables["payments"]
        with self.engine.connect() as conn:
            row = conn.execute(select(p).where(p.c.booking_id == booking_id)).mappings().first()
        return dict(row) if row else None
