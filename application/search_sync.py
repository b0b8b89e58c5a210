"""Keeps a `SearchIndex` in step with the search documents view.

The view (`projections/search_documents.py`) folds listing and calendar events into one row
per listing, each stamped with the log position of the last event that changed it. The
syncer pushes rows changed since its own tracked position, and moves that position only
after the index has accepted the batch (`upsert` / `delete` return once the backend's task
succeeded), so a failure anywhere means a retry, never a lost change. Writes are versioned
by that position, so a replay, a retry after a lost acknowledgement or two syncers racing
can never put an older document over a newer one.

Read-your-writes: after a whole pass the syncer also records `applied`, the view's own
position read before the pass (see `application/search_freshness.py`).

Availability is relative to today: the view keeps every fully-blocked key, the document
carries those within the horizon, and `roll_horizon` re-pushes every document once a day.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date
from typing import Any

from application.ports import Clock
from application.search import SENTINEL_DAY, SearchIndex, SearchIndexError
from application.search_freshness import AppliedPosition
from domain.search_documents import Horizon, SearchDocumentSource, SyncState

log = logging.getLogger(__name__)

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
HOUR = 3600
# Bump when `document_for` changes shape: the syncer then re-pushes every document.
DOCUMENT_VERSION = 2


def document_for(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The search document of an active row, its availability cut to the horizon."""
    horizon = Horizon.starting(today)
    nights, hours = [SENTINEL_DAY], [SENTINEL_DAY]
    keys = row.get("blocked_keys") or ()
    if row["booking_unit"] == "hour":
        lo, hi = horizon.hours
        hours += sorted({k // HOUR for k in keys if lo <= k < hi})
    else:
        lo, hi = horizon.nights
        nights += sorted(k - EPOCH_ORDINAL for k in keys if lo <= k < hi)
    return {
        "id": str(row["id"]),
        # The row's position, not the listing's version: calendar changes move it too, so
        # the index can order every change to the document.
        "version": row["position"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "category_data": row["category_data"],
        "city": row["city"],
        "country": row["country"],
        "_geo": {"lat": row["lat"], "lng": row["lng"]},
        "price_amount": row["price_amount"],
        "currency": row["currency"],
        "capacity": row["capacity"],
        "units": row["units"],
        "amenities": list(row["amenities"]),
        "booking_mode": row["booking_mode"],
        "booking_unit": row["booking_unit"],
        "rating": float(row["rating"]),
        "review_count": row["review_count"],
        "created_at": row["created_at"],
        "cover_thumbnail_url": row.get("cover_thumbnail_url"),
        "blocked_nights": nights,
        "blocked_hours": hours,
    }


class IndexSyncer:
    def __init__(
        self,
        source: SearchDocumentSource,
        index: SearchIndex,
        *,
        tracking_name: str = "search_index",
        batch_size: int = 500,
    ) -> None:
        self.source = source
        self.index = index
        self.name = tracking_name
        self.batch_size = batch_size
        self.generation = f"{source.generation}/doc{DOCUMENT_VERSION}"
        self.applied = AppliedPosition(lambda: self.state().applied)
        self._wake = threading.Event()

    def wake(self) -> None:
        """Something changed in the view (a page committed, a stop): sync now."""
        self._wake.set()

    def state(self) -> SyncState:
        return self.source.load_state(self.name) or SyncState()

    def sync_once(self, today: date) -> int:
        """Pushes every row changed since the tracked position; returns how many. Raises
        `SearchIndexError` (tracking stays at the last accepted batch) when the index fails.
        On first use, or once the view or document shape changed, re-pushes everything."""
        covered = self.source.view_position()  # before any row is read
        state = saved = self.state()
        if state.generation != self.generation:
            return self._push_all(today, clear=False, covered=covered)
        horizon, pushed = Horizon.starting(today), 0
        while True:
            rows = self.source.changed_since(state.position, self.batch_size, horizon)
            if rows:
                self._push(rows, today, with_deletes=True)
                state = replace(state, position=rows[-1]["position"])
                pushed += len(rows)
            if len(rows) < self.batch_size:  # the pass is complete
                applied = state.position if covered is None else covered
                state = replace(state, applied=max(state.applied, applied))
                if state != saved:
                    self._save(state)
                return pushed
            self._save(state)

    def roll_horizon(self, today: date) -> int:
        """Re-pushes every active document with availability cut for `today` (daily)."""
        pushed, after, horizon = 0, None, Horizon.starting(today)
        while rows := self.source.all_rows(after, self.batch_size, horizon):
            pushed += self._push(rows, today, with_deletes=False)
            after = rows[-1]["id"]
        self._save(replace(self.state(), horizon_day=today))
        return pushed

    def rebuild(self, today: date) -> int:
        """Empties the index, applies its settings and pushes every active document."""
        self.index.ensure_settings()  # first: a fresh backend has nothing to clear yet
        self.index.clear()
        return self._push_all(today, clear=True)

    def run_forever(
        self,
        clock: Clock,
        stop_event: threading.Event,
        interval: float = 1.0,
        max_backoff: float = 60.0,
        fallback_poll: float | None = None,
    ) -> None:
        """Applies the settings once, then syncs whenever `wake()` is called (the view
        moved), else every `fallback_poll` seconds (default `interval`), and rolls the
        horizon when the (UTC) date changes, backing off from `interval` while the index or
        view fails. Call `wake()` after setting `stop_event` to stop at once."""
        self.applied.local = True
        try:
            self._run(clock, stop_event, interval, max_backoff, fallback_poll or interval)
        finally:
            self.applied.local = False

    def _run(
        self,
        clock: Clock,
        stop_event: threading.Event,
        interval: float,
        max_backoff: float,
        poll: float,
    ) -> None:
        settings_applied, failures = False, 0
        while not stop_event.is_set():
            self._wake.clear()  # a wake from here on means another pass
            try:
                if not settings_applied:
                    self.index.ensure_settings()
                    self.applied.advance(self.state().applied)
                    settings_applied = True
                today = clock.now().astimezone(UTC).date()
                self.sync_once(today)
                if self.state().horizon_day != today:
                    self.roll_horizon(today)
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(max_backoff, interval * 2**failures)
                level = logging.WARNING if isinstance(exc, SearchIndexError) else logging.ERROR
                log.log(level, "search sync failed; retrying in %.1f s", delay, exc_info=True)
                stop_event.wait(delay)
                continue
            self._wake.wait(poll)

    # -- internals -----------------------------------------------------------------------

    def _push_all(self, today: date, *, clear: bool, covered: int | None = None) -> int:
        """Every row as it stands (deletes too unless the index was just cleared), then
        tracking at the head read before the first page: a row changed meanwhile has a
        higher position, so the next `sync_once` sends it again."""
        covered = self.source.view_position() if covered is None else covered
        head = self.source.head()
        pushed, after, horizon = 0, None, Horizon.starting(today)
        while rows := self.source.all_rows(after, self.batch_size, horizon):
            pushed += self._push(rows, today, with_deletes=not clear)
            after = rows[-1]["id"]
        applied = head if covered is None else covered
        self._save(SyncState(head, self.generation, today, applied))
        return pushed

    def _save(self, state: SyncState) -> None:
        self.source.save_state(self.name, state)
        self.applied.recorded(state.applied)

    def _push(self, rows: Sequence[Mapping[str, Any]], today: date, *, with_deletes: bool) -> int:
        documents = [document_for(r, today) for r in rows if not r["deleted"]]
        gone = [(str(r["id"]), r["position"]) for r in rows if r["deleted"]]
        if documents:
            self.index.upsert(documents)
        if gone and with_deletes:
            self.index.delete(gone)
        return len(documents) + (len(gone) if with_deletes else 0)
