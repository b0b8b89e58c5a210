"""Where the index syncer keeps its state (position, generation, availability horizon and the
applied log position): a small table beside the search documents view, not part of it, so a
view rebuild keeps it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    String,
    Table,
    inspect,
    select,
    text,
)

from domain.search_documents import SyncState
from projections.base import create_tables, new_metadata, upsert, write_transaction

_sync_metadata = new_metadata()
sync_state = Table(
    "search_sync_state",
    _sync_metadata,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("generation", String(100), nullable=False),
    Column("horizon_day", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("applied", BigInteger, nullable=False, server_default="0"),
)


class SyncStates:
    """Each syncer's `SyncState` by name; the table is made (or upgraded) on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._created = False

    def load(self, name: str) -> SyncState | None:
        self._create()
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_state).where(sync_state.c.name == name)).first()
        if row is None:
            return None
        return SyncState(row.position, row.generation, row.horizon_day, row.applied)

    def save(self, name: str, state: SyncState) -> None:
        self._create()
        row = {"name": name, "position": state.position, "generation": state.generation}
        row.update(horizon_day=state.horizon_day, updated_at=datetime.now(UTC))
        row.update(applied=state.applied)
        with write_transaction(self.engine) as conn:
            upsert(conn, sync_state, [row])

    def _create(self) -> None:
        if not self._created:
            with write_transaction(self.engine) as conn:
                create_tables(conn, _sync_metadata)
                add_applied_column(conn)
            self._created = True


def add_applied_column(conn: Connection) -> None:
    """State tables made before the syncer recorded `applied` lack the column."""
    if "applied" not in {c["name"] for c in inspect(conn).get_columns(sync_state.name)}:
        conn.execute(
            text(f"ALTER TABLE {sync_state.name} ADD COLUMN applied BIGINT NOT NULL DEFAULT 0")
        )
