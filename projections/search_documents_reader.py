"""The index syncer's `SearchDocumentSource`, answered from the search documents view."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from domain.search_documents import Horizon, SearchDocumentSource, SyncState
from projections import tracking
from projections.base import ViewTables
from projections.search_documents_queries import all_rows, changed_since
from projections.search_documents_view import SearchDocumentsView
from projections.search_sync_state import SyncStates


class ViewSearchDocuments(SearchDocumentSource):
    """The syncer's `SearchDocumentSource`, read from this view; its own state lives in a
    small table beside it (not part of the view, so a view rebuild keeps it)."""

    generation = f"{SearchDocumentsView.name}:v{SearchDocumentsView.version}"

    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(SearchDocumentsView())
        self.states = SyncStates(engine)

    def head(self) -> int:
        docs = self.tables["documents"]
        with self.engine.connect() as conn:
            head = conn.execute(select(func.max(docs.c.position))).scalar()
        return int(head or 0)

    def changed_since(self, position: int, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        with self._snapshot() as conn:
            return changed_since(conn, self.tables, position, limit, horizon)

    def all_rows(self, after_id: UUID | None, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        with self._snapshot() as conn:
            return all_rows(conn, self.tables, after_id, limit, horizon)

    def load_state(self, name: str) -> SyncState | None:
        return self.states.load(name)

    def save_state(self, name: str, state: SyncState) -> None:
        self.states.save(name, state)

    def view_position(self) -> int | None:
        try:
            with self.engine.connect() as conn:
                row = tracking.load(conn, SearchDocumentsView.name)
        except (OperationalError, ProgrammingError):  # no runner has set this database up
            return None
        return row.position if row is not None else None

    def _snapshot(self) -> Any:
        """Rows and their keys from one snapshot (PostgreSQL reads commit per statement)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn
