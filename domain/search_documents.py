"""What the index syncer and the search documents view agree on: the horizon of availability
a document carries, the syncer's saved state, and the port it reads rows through.

Here, below both layers, because the syncer (application) reads and the search documents view
(projections) answers, and neither may import the other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

NIGHTS_HORIZON_DAYS = 365
HOURS_HORIZON_DAYS = 90


@dataclass(frozen=True)
class Horizon:
    """The keys a document carries: date ordinals of nights/days and epoch seconds of
    hourly slots, each as a half-open [from, to) range starting today (UTC)."""

    nights: tuple[int, int]
    hours: tuple[int, int]

    @classmethod
    def starting(cls, today: date) -> Horizon:
        def epoch(day: date) -> int:
            return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())

        first = today.toordinal()
        hours_end = today + timedelta(days=HOURS_HORIZON_DAYS)
        return cls(
            nights=(first, first + NIGHTS_HORIZON_DAYS), hours=(epoch(today), epoch(hours_end))
        )


@dataclass(frozen=True)
class SyncState:
    position: int = 0  # every row at or below it is in the index
    generation: str = ""  # the view and document shape the index was filled with
    horizon_day: date | None = None  # the day the documents' availability was cut for
    applied: int = 0  # log position the index reflects entirely (the view's, not a row's)


class SearchDocumentSource(ABC):
    """Where the syncer reads search rows and keeps its own state (the view database).

    A row is a mapping with the document body fields (see `application/search.py`) plus
    `id` (UUID), `version` (the listing's), `position` (log position of the last change;
    unique per row, as each event changes one listing), `status`, `deleted`, `lat`, `lng`
    and `blocked_keys` (sorted fully-blocked keys within the horizon asked for)."""

    generation: str  # changes when the view is rebuilt with a different shape

    @abstractmethod
    def head(self) -> int:
        """The highest position of any row (0 when empty)."""

    @abstractmethod
    def changed_since(self, position: int, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        """Rows with a position above `position`, lowest first."""

    @abstractmethod
    def all_rows(self, after_id: UUID | None, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        """Every row in id order, a page at a time."""

    def view_position(self) -> int | None:
        """The log position the view has processed (None when unknown): read before a
        pass, every change at or below it is among the rows that pass reads."""
        return None

    @abstractmethod
    def load_state(self, name: str) -> SyncState | None: ...

    @abstractmethod
    def save_state(self, name: str, state: SyncState) -> None: ...
