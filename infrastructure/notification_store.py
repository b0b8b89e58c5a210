"""Per-user notification state, in the view database but outside the notifications view
(a rebuild leaves it alone): read marks and preferences; and the in-app queries.

Reads are state, not events: marking a notification read is not a business fact anyone
replays, and a rebuild of the view keeps them because notification ids are stable. Two
tables: a high-water mark per user (`{up_to}`: everything at or below that log position is
read) and single ids (`{ids}`). Preferences: one row per (user, kind, channel) changed from
the default (on); transactional mail is never stored off (refused before).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    func,
    or_,
    select,
)

from domain.notifications import CHANNELS, IN_APP, KINDS, check_preference, is_locked
from projections.base import create_tables, upsert, write_transaction
from projections.listings import rfc3339

metadata = MetaData()
read_marks = Table(
    "notification_read_marks",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("up_to", BigInteger, nullable=False),
)
read_ids = Table(
    "notification_read_ids",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("notification_id", Uuid, primary_key=True),
)
preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("channel", String(10), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)


class NotificationStore:
    def __init__(self, engine: Engine, view: Any) -> None:
        self.engine = engine
        self.view = view  # the notifications view's tables
        with write_transaction(engine) as conn:
            create_tables(conn, metadata)

    # -- preferences ---------------------------------------------------------------------

    def preferences(self, user_id: UUID) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            stmt = select(preferences).where(preferences.c.user_id == user_id)
            stored = {(r.kind, r.channel): r.enabled for r in conn.execute(stmt)}
        return [
            {
                "kind": kind,
                "channel": channel,
                "enabled": stored.get((kind, channel), True),
                "locked": is_locked(kind, channel),
            }
            for kind in KINDS
            for channel in CHANNELS
        ]

    def set_preferences(self, user_id: UUID, changes: list[tuple[str, str, bool]]) -> None:
        """All or nothing: one refused change (422) changes nothing."""
        for kind, channel, enabled in changes:
            check_preference(kind, channel, enabled)
        rows = [{"user_id": user_id, "kind": k, "channel": c, "enabled": e} for k, c, e in changes]
        with write_transaction(self.engine) as conn:
            upsert(conn, preferences, rows)

    def enabled(self, user_id: UUID, kind: str, channel: str) -> bool:
        if is_locked(kind, channel):
            return True
        with self.engine.connect() as conn:
            stmt = select(preferences.c.enabled).where(
                preferences.c.user_id == user_id,
                preferences.c.kind == kind,
                preferences.c.channel == channel,
            )
            value = conn.execute(stmt).scalar()
        return True if value is None else bool(value)

    def _muted(self, conn: Any, user_id: UUID) -> list[str]:
        stmt = select(preferences.c.kind).where(
            preferences.c.user_id == user_id,
            preferences.c.channel == IN_APP,
            preferences.c.enabled.is_(False),
        )
        return list(conn.execute(stmt).scalars())

    # -- in-app --------------------------------------------------------------------------

    def _where(self, conn: Any, user_id: UUID) -> list[Any]:
        table = self.view["notifications"]
        where = [table.c.recipient_id == user_id]
        muted = self._muted(conn, user_id)
        if muted:
            where.append(table.c.kind.not_in(muted))
        return where

    def _is_read(self, user_id: UUID) -> Any:
        table = self.view["notifications"]
        mark = select(read_marks.c.up_to).where(read_marks.c.user_id == user_id)
        single = select(read_ids.c.notification_id).where(read_ids.c.user_id == user_id)
        up_to = func.coalesce(mark.scalar_subquery(), -1)  # no mark: nothing read by it
        return or_(table.c.position <= up_to, table.c.id.in_(single))

    def page(
        self, user_id: UUID, limit: int, after: tuple[int, UUID] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Up to `limit + 1` notifications, newest first, after the cursor; and the unread
        count (of in-app kinds the user has not muted)."""
        table = self.view["notifications"]
        read = self._is_read(user_id)
        with self.engine.connect() as conn:
            where = self._where(conn, user_id)
            unread_stmt = select(func.count()).select_from(table).where(*where, ~read)
            unread = int(conn.execute(unread_stmt).scalar() or 0)
            if after is not None:
                position, last = after
                where.append(
                    or_(
                        table.c.position < position,
                        and_(table.c.position == position, table.c.id < last),
                    )
                )
            stmt = (
                select(table, read.label("read"))
                .where(*where)
                .order_by(table.c.position.desc(), table.c.id.desc())
                .limit(limit + 1)
            )
            rows = [_public(r) for r in conn.execute(stmt).mappings()]
        return rows, unread

    def mark_read(self, user_id: UUID, *, up_to: int | None, ids: list[UUID]) -> None:
        with write_transaction(self.engine) as conn:
            if up_to is not None:
                now = conn.execute(
                    select(read_marks.c.up_to).where(read_marks.c.user_id == user_id)
                ).scalar()
                if now is None or now < up_to:
                    upsert(conn, read_marks, [{"user_id": user_id, "up_to": up_to}])
            if ids:
                rows = [{"user_id": user_id, "notification_id": i} for i in dict.fromkeys(ids)]
                upsert(conn, read_ids, rows)


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "position": row["position"],
        "created_at": rfc3339(row["created_at"]),
        "read": bool(row["read"]),
        "data": dict(row["data"]),
    }
