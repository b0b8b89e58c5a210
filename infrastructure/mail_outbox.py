"""The OutboxStore on the view database: outbox rows from the notifications view, their
delivery state in `email_deliveries` (outside the view, so a rebuild never forgets a sent
mail: the rebuilt row has the same id and finds its delivery).

`claim` is the gate: an INSERT of a new `sending` row (ON CONFLICT DO NOTHING) or an UPDATE
`pending -> sending`, or `sending -> sending` once the claim's lease ran out (its worker was
killed); exactly one of racing claimers sees a row change. A `sending` row's `updated_at` is
its claim time (only a claim writes `sending`), so the lease needs no column of its own;
`attempts` numbers the claims and fences the moves out of `sending` to the current holder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from application.notification_mail import (
    CLAIMED,
    SENDING,
    SKIPPED,
    OutboxMail,
    OutboxStore,
)
from domain.notifications import EMAIL
from infrastructure.notification_store import NotificationStore
from projections.base import create_tables, write_transaction

metadata = MetaData()
deliveries = Table(
    "email_deliveries",
    metadata,
    Column("outbox_id", Uuid, primary_key=True),  # unique: one delivery per (event, recipient)
    Column("state", String(10), nullable=False),  # pending | sending | sent | skipped
    Column("attempts", Integer, nullable=False),
    Column("message_id", String(200)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# The log position email started at: a deployment that adds notifications to a store with
# history projects every old event, and must not mail anyone about them.
horizon = Table(
    "email_horizon",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)
PENDING, SENT = "pending", "sent"


class SqlOutboxStore(OutboxStore):
    def __init__(
        self,
        engine: Engine,
        view: Any,
        notifications: NotificationStore,
        *,
        start_position: int = 0,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        """`start_position`: the log position now; kept from the first start on (rows at
        or below it are history and never mailed). `lease`: how long a claim holds."""
        self.engine = engine
        self.lease = lease
        self.outbox = view["outbox"]
        self.view_notifications = view["notifications"]
        self.notifications = notifications
        with write_transaction(engine) as conn:
            create_tables(conn, metadata)
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            first = {"id": 1, "position": start_position}
            conn.execute(insert(horizon).values(**first).on_conflict_do_nothing())
            self.horizon = int(conn.execute(select(horizon.c.position)).scalar() or 0)

    def pending(self, limit: int) -> list[UUID]:
        o, d = self.outbox, deliveries
        stmt = (
            select(o.c.id)
            .outerjoin(d, d.c.outbox_id == o.c.id)
            .where(d.c.outbox_id.is_(None), o.c.position > self.horizon)
            .order_by(o.c.position, o.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def expired(self, limit: int) -> list[tuple[UUID, int]]:
        d = deliveries
        cutoff = datetime.now(UTC) - self.lease
        stmt = (
            select(d.c.outbox_id, d.c.attempts)
            .where(d.c.state == SENDING, d.c.updated_at < cutoff)
            .order_by(d.c.updated_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.outbox_id, int(row.attempts)) for row in conn.execute(stmt)]

    def get(self, outbox_id: UUID) -> OutboxMail | None:
        o, n = self.outbox, self.view_notifications
        # The data is the notification's: the outbox row names it (view version 3).
        stmt = select(o, n.c.data).join(n, n.c.id == o.c.notification_id).where(o.c.id == outbox_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return OutboxMail(
            id=row.id,
            recipient_id=row.recipient_id,
            kind=row.kind,
            to_address=row.to_address,
            name=row.name,
            locale=row.locale,
            data=dict(row.data),
        )

    def state(self, outbox_id: UUID) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            stmt = select(deliveries).where(deliveries.c.outbox_id == outbox_id)
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def claim(self, outbox_id: UUID) -> tuple[str, int]:
        now = datetime.now(UTC)
        d = deliveries
        with write_transaction(self.engine) as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            new = {"outbox_id": outbox_id, "state": SENDING, "attempts": 1, "updated_at": now}
            # RETURNING says which write happened (rowcount is unreliable across drivers).
            stmt = insert(d).values(**new).on_conflict_do_nothing().returning(d.c.attempts)
            if (first := conn.execute(stmt).first()) is not None:
                return CLAIMED, int(first.attempts)
            lapsed = and_(d.c.state == SENDING, d.c.updated_at < now - self.lease)
            moved = conn.execute(
                update(d)
                .where(d.c.outbox_id == outbox_id, or_(d.c.state == PENDING, lapsed))
                .values(state=SENDING, attempts=d.c.attempts + 1, updated_at=now)
                .returning(d.c.attempts)
            ).first()
            if moved is not None:
                return CLAIMED, int(moved.attempts)
            stmt2 = select(d.c.state, d.c.attempts).where(d.c.outbox_id == outbox_id)
            row = conn.execute(stmt2).one()
            return str(row.state), int(row.attempts)

    def _move(self, outbox_id: UUID, attempt: int, **values: Any) -> None:
        """Only the holder of this claim moves the row: a worker whose lease lapsed and was
        reclaimed (attempts moved on) changes nothing."""
        d = deliveries
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(d)
                .where(d.c.outbox_id == outbox_id, d.c.state == SENDING, d.c.attempts == attempt)
                .values(updated_at=datetime.now(UTC), **values)
            )

    def mark_sent(self, outbox_id: UUID, message_id: str, *, attempt: int) -> None:
        self._move(outbox_id, attempt, state=SENT, message_id=message_id, error=None)

    def release(self, outbox_id: UUID, error: str, *, attempt: int) -> None:
        self._move(outbox_id, attempt, state=PENDING, error=error[:2000])

    def skip(self, outbox_id: UUID, reason: str, *, attempt: int) -> None:
        self._move(outbox_id, attempt, state=SKIPPED, error=reason)

    def wants_email(self, user_id: UUID, kind: str) -> bool:
        return self.notifications.enabled(user_id, kind, EMAIL)
