"""Where each projection has got to in the notification log, written in the same
transaction as its view rows so the two can never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    insert,
    select,
    text,
    update,
)

from projections.base import create_tables

metadata = MetaData()
tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # ok | error | rebuilding
    Column("error", Text),
)

OK, ERROR, REBUILDING = "ok", "error", "rebuilding"
# PostgreSQL: a page's transaction NOTIFYs here, so processes waiting on views others move
# (API workers' read-your-writes waits) read the rows now rather than at their next poll.
POSITIONS_CHANNEL = "rentbook_positions"


class TrackingConflict(RuntimeError):
    """Another runner moved this projection on first: its page must not be applied twice."""


@dataclass(frozen=True)
class Tracked:
    name: str
    position: int
    updated_at: datetime
    last_event_at: datetime | None
    version: int
    status: str
    error: str | None


def create(conn: Connection) -> None:
    create_tables(conn, metadata)


def load(conn: Connection, name: str) -> Tracked | None:
    row = conn.execute(select(tracking).where(tracking.c.name == name)).mappings().first()
    return Tracked(**row) if row else None


def positions(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """name -> position of those of `names` that are tracked, in one statement."""
    if not names:
        return {}
    query = select(tracking.c.name, tracking.c.position).where(tracking.c.name.in_(names))
    return {name: position for name, position in conn.execute(query)}


def announce(conn: Connection) -> None:
    """Tells the listeners that positions moved, on commit only (PostgreSQL; a no-op on
    SQLite, where the waiters poll). A bare ping: the listener reads the rows anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {POSITIONS_CHANNEL}"))


def load_all(conn: Connection) -> list[Tracked]:
    rows = conn.execute(select(tracking).order_by(tracking.c.name)).mappings()
    return [Tracked(**row) for row in rows]


def start(conn: Connection, name: str, version: int, status: str = OK) -> None:
    conn.execute(
        insert(tracking).values(
            name=name, position=0, updated_at=_now(), version=version, status=status
        )
    )


def advance(
    conn: Connection,
    name: str,
    *,
    expected: int,
    position: int,
    last_event_at: datetime | None,
    status: str = OK,
) -> None:
    """Moves `name` from `expected` to `position`; run it first in the page's transaction,
    so on PostgreSQL the row lock also serialises two runners of the same projection."""
    values: dict[str, object] = {
        "position": position,
        "updated_at": _now(),
        "status": status,
        "error": None,
    }
    if last_event_at is not None:
        values["last_event_at"] = last_event_at
    result = conn.execute(
        update(tracking)
        .where(tracking.c.name == name, tracking.c.position == expected)
        .values(**values)
    )
    if result.rowcount != 1:
        raise TrackingConflict(f"{name} is no longer at position {expected}")


def advance_all(
    conn: Connection,
    names: Sequence[str],
    *,
    expected: int,
    position: int,
    last_event_at: datetime | None,
    status: str = OK,
) -> None:
    """`advance` for several projections standing at the same position (a rebuild's fresh
    views), in one statement."""
    values: dict[str, object] = {"position": position, "updated_at": _now(), "status": status}
    values["error"] = None
    if last_event_at is not None:
        values["last_event_at"] = last_event_at
    result = conn.execute(
        update(tracking)
        .where(tracking.c.name.in_(list(names)), tracking.c.position == expected)
        .values(**values)
    )
    if result.rowcount != len(set(names)):
        raise TrackingConflict(f"{', '.join(names)} no longer all at position {expected}")


def advance_many(conn: Connection, expected: dict[str, int], position: int) -> set[str]:
    """Moves each named projection from its expected position to `position` in one
    statement (the views a page had nothing for); returns the names that moved — any other
    was moved by another runner first."""
    if not expected:
        return set()
    at = case(expected, value=tracking.c.name)
    result = conn.execute(
        update(tracking)
        .where(tracking.c.name.in_(list(expected)), tracking.c.position == at)
        .values(position=position, updated_at=_now(), status=OK, error=None)
        .returning(tracking.c.name)
    )
    return {row[0] for row in result}


def replace(conn: Connection, name: str, source: str, version: int) -> None:
    """Makes `name` carry on from where the rebuild tracked as `source` got to."""
    rebuilt = load(conn, source)
    assert rebuilt is not None
    conn.execute(delete(tracking).where(tracking.c.name.in_([name, source])))
    conn.execute(
        insert(tracking).values(
            name=name,
            position=rebuilt.position,
            updated_at=_now(),
            last_event_at=rebuilt.last_event_at,
            version=version,
            status=OK,
        )
    )


def mark_error(conn: Connection, name: str, message: str) -> None:
    conn.execute(
        update(tracking)
        .where(tracking.c.name == name)
        .values(status=ERROR, error=message[:2000], updated_at=_now())
    )


def forget(conn: Connection, name: str) -> None:
    conn.execute(delete(tracking).where(tracking.c.name == name))


def _now() -> datetime:
    return datetime.now(UTC)
