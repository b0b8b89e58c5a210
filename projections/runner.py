"""Runs projections: catches each up from its tracked position, then follows new events.

Not the library's `ProjectionRunner`: that one needs `subscribe()`, which the SQLite recorder
lacks, and applies one event per transaction. Here each projection reads the notification
log in pages and applies a whole page together with its tracking update in one view-database
transaction, so a crash anywhere neither loses nor repeats an event, and a rebuild runs at
bulk-insert speed. New events wake the follower through PostgreSQL
LISTEN/NOTIFY or the store's in-process listener, with polling as the fallback.

Live, one thread follows the log for every view (`projections/follow_together.py`): one read
and one transaction a page for them all. A view that needs rebuilding rebuilds in a thread of
its own while the others go on. A runner may own only some views (`own`): it catches up and
follows those, and other processes the rest (`rentbook project --processes`); it still knows
every view's tables and waits on the others' positions in the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Table

from projections import tracking
from projections.base import Projection, canonical_tables, create_tables, write_transaction
from projections.decoded import DecodedEvents
from projections.erasure_repair import repair_views, stream_reader
from projections.event_log import EventLog
from projections.follow_together import Outcome, settle, step_together
from projections.live_view import LiveView
from projections.rebuild import Progress, rebuild_views
from projections.shared_reads import SharedReads

log = logging.getLogger(__name__)
APPLICATION_NAME = "rentbook projections"  # who its LISTEN connection is in pg_stat_activity


class ProjectionRunner:
    def __init__(
        self,
        store: EventLog,
        engine: Engine,
        projections: Iterable[Projection],
        *,
        batch_size: int = 500,
        catch_up_batch_size: int | None = None,
        rebuild_batch_size: int = 5000,
        poll_interval: float | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.store = store
        self.engine = engine
        self.batch_size = batch_size
        # Views more than a page behind read pages this large: per page each view pays a few
        # statements and a savepoint, which at 500 cost a third more CPU than at 5,000.
        self.catch_up_batch_size = catch_up_batch_size or batch_size
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._is_pg = engine.dialect.name == "postgresql"
        self._channel: str | None = getattr(store.recorder, "channel_name", None)
        self.poll_interval = poll_interval or (1.0 if self._channel else 0.1)
        self.max_backoff = max_backoff
        self._live: dict[str, LiveView] = {}
        for p in projections:
            self._live[p.name] = LiveView(p, *canonical_tables(p))
        self._owned = list(self._live)  # the views this runner moves: all unless `own`
        self._decoded = DecodedEvents(store)  # one decode of a page for every view
        self._changed = threading.Condition()
        self._reads = SharedReads(self._changed)  # of other processes' views, for waiters
        self.page_hooks: list[Callable[[str, int], None]] = []  # (name, position) per page
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._set_up = False

    # -- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        """Creates the tracking table and any missing view tables; loads positions."""
        with write_transaction(self.engine) as conn:
            tracking.create(conn)
            for live in self._live.values():
                row = tracking.load(conn, live.projection.name)
                if row is None:
                    create_tables(conn, live.metadata)
                    tracking.start(conn, live.projection.name, live.projection.version)
                    live.position = 0
                else:
                    live.position, live.status = row.position, row.status
                    live.needs_rebuild = row.version != live.projection.version
        self._set_up = True

    def own(self, names: Iterable[str]) -> None:
        """Catches up, follows and rebuilds-on-version-change only `names`; processes of
        their own run the other views. Before `start`."""
        wanted = list(dict.fromkeys(names))
        unknown = [name for name in wanted if name not in self._live]
        if unknown:
            raise ValueError(f"no such projection: {', '.join(unknown)}")
        self._owned = [name for name in self._live if name in wanted]  # the runner's order

    @property
    def owned(self) -> list[str]:
        return list(self._owned)

    def start(self) -> None:
        if not self._set_up:
            self.setup()
        self._stopping.clear()
        self.store.add_listener(self._on_recorded)
        self._spawn("projections", self._follow_all)
        if self._is_pg and self._channel:
            self._spawn("projection-listen", self._listen)

    def stop(self, timeout: float = 5.0) -> None:
        self.store.remove_listener(self._on_recorded)
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def __enter__(self) -> ProjectionRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def catch_up(self, names: Iterable[str] | None = None) -> None:
        """Processes everything recorded so far, in this thread; raises what a view raises.
        The views move together, a page of the log at a time, each page read and decoded
        once for all of them."""
        if not self._set_up:
            self.setup()
        lives = [self._live[name] for name in names or self._owned]
        for live in lives:
            if live.needs_rebuild:
                self.rebuild(live.projection.name)
        self._catch_up(lives, self._decoded)

    def _catch_up(self, lives: Sequence[LiveView], decoded: DecodedEvents) -> None:
        head = self.store.current_position()  # a busy writer must not keep us here
        more = True
        while more:
            outcome, more = step_together(
                self.store,
                self.engine,
                decoded,
                lives,
                self.batch_size,
                stop=head,
                catch_up_size=self.catch_up_batch_size,
            )
            settle(self.engine, outcome, self._refresh_positions, self.max_backoff)
            self._announce(outcome)
            if outcome.failed:
                raise outcome.failed[0][1]
            if more and not outcome.moved:
                time.sleep(0.01)  # a rebuild holds the lagging views' locks

    # -- queries -----------------------------------------------------------------------

    def tables(self, name: str) -> dict[str, Table]:
        return dict(self._live[name].tables)

    def position(self, name: str) -> int:
        if not self._follows(name):
            self._refresh_positions([self._live[name]])
        return self._live[name].position

    def _follows(self, name: str) -> bool:
        """Whether this runner's own thread moves `name` (else another process may)."""
        return bool(self._threads) and name in self._owned

    def wait_for(
        self, position: int, names: Iterable[str] | None = None, timeout: float = 5.0
    ) -> bool:
        """True once every named projection (default: all) has processed `position`."""
        lives = [self._live[n] for n in names] if names is not None else list(self._live.values())
        deadline = time.monotonic() + timeout
        # Views no thread of ours follows are moved by another process: read their rows,
        # one read at a time for every waiter of this process.
        polled = any(not self._follows(live.projection.name) for live in lives)
        with self._changed:
            ticket = self._reads.ticket()
            while True:
                if all(live.position >= position for live in lives):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if polled:
                    self._reads.wait(ticket, remaining, self._refresh_unfollowed)
                else:
                    self._changed.wait(remaining)

    def positions_moved(self) -> None:
        """Another process committed a page (PostgreSQL: its NOTIFY on
        `tracking.POSITIONS_CHANNEL`, heard by the API worker's listener)."""
        self._reads.moved()

    @property
    def shared_reads(self) -> SharedReads:
        return self._reads

    def _refresh_unfollowed(self) -> None:
        lives = self._live.values()
        self._refresh_positions([v for v in lives if not self._follows(v.projection.name)])

    def status(self) -> list[dict[str, Any]]:
        head = self.store.current_position()
        with self.engine.connect() as conn:
            rows = {r.name: r for r in tracking.load_all(conn)}
        result = []
        for name, live in self._live.items():
            row = rows.get(name)
            position = row.position if row else 0
            result.append(
                {
                    "name": name,
                    "position": position,
                    "lag_events": max(0, head - position),
                    "lag_seconds": self._lag_seconds(live, position, head),
                    "status": row.status if row else "new",
                    "error": row.error if row else None,
                    "version": row.version if row else live.projection.version,
                    "updated_at": row.updated_at if row else None,
                    "last_event_at": row.last_event_at if row else None,
                }
            )
        return result

    # -- following ---------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _on_recorded(self, _position: int) -> None:
        self._wake.set()

    def _follow_all(self) -> None:
        lives = [self._live[name] for name in self._owned]
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()
            now = time.monotonic()
            for live in lives:
                if live.needs_rebuild and not live.rebuilding:
                    live.rebuilding = True
                    self._spawn(f"rebuild-{live.projection.name}", self._rebuild_live, live)
            ready = [v for v in lives if not v.rebuilding and v.retry_at <= now]
            try:
                outcome, more = step_together(
                    self.store,
                    self.engine,
                    self._decoded,
                    ready,
                    self.batch_size,
                    catch_up_size=self.catch_up_batch_size,
                )
                settle(self.engine, outcome, self._refresh_positions, self.max_backoff)
            except Exception:  # the log or the view database: every view waits
                failures += 1
                log.warning("projections could not read or commit a page", exc_info=True)
                self._stopping.wait(min(self.max_backoff, 0.2 * 2**failures))
                continue
            failures = 0
            self._announce(outcome)
            if not more:
                retries = [v.retry_at - now for v in lives if v.retry_at > now]
                self._wake.wait(min([self.poll_interval, *retries]))

    def _announce(self, outcome: Outcome) -> None:
        """Wakes the waiters and page hooks (the search syncer) of the views a page moved."""
        if outcome.moved:
            with self._changed:
                self._changed.notify_all()
        for live in outcome.moved:
            for hook in self.page_hooks:
                hook(live.projection.name, live.position)

    def _rebuild_live(self, live: LiveView) -> None:
        try:
            self.rebuild(live.projection.name)
        except Exception:
            log.exception("rebuilding projection %s failed", live.projection.name)
            self._stopping.wait(self.max_backoff)
        finally:
            live.rebuilding = False
            self._wake.set()

    def _listen(self) -> None:
        """Wakes every projection on each commit to the events table (PostgreSQL)."""
        import psycopg
        from psycopg import sql

        assert self._channel is not None
        kwargs = dict(getattr(self.store.recorder.datastore.pool, "kwargs", {}))  # type: ignore[attr-defined]
        kwargs.pop("row_factory", None)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    **kwargs, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._on_recorded(0)  # anything committed while we were not listening
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.2, stop_after=1):
                            self._on_recorded(0)
            except Exception:
                log.warning("LISTEN connection lost; polling until it is back", exc_info=True)
                self._stopping.wait(1.0)

    def _refresh_positions(self, lives: Sequence[LiveView]) -> None:
        """The rows' positions as they are: a rebuild another process swapped in may stand
        behind ours (events it missed went to the tables it dropped), and following on from
        our own position would conflict with its row on every page, for good."""
        with self.engine.connect() as conn:
            found = tracking.positions(conn, [live.projection.name for live in lives])
        for live in lives:
            if live.projection.name in found:
                live.position = found[live.projection.name]

    def _lag_seconds(self, live: LiveView, position: int, head: int) -> float:
        if position >= head:
            return 0.0
        notes = self.store.recorder.select_notifications(
            position, 1, stop=head, topics=live.projection.topics, inclusive_of_start=False
        )
        if not notes:
            return 0.0
        oldest = getattr(self.store.mapper.to_domain_event(notes[0]), "timestamp", None)
        if not isinstance(oldest, datetime):
            return 0.0
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    # -- rebuild -----------------------------------------------------------------------

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuilds `name` into fresh tables from position 0 while the live view keeps
        serving, then swaps them in under the canonical names in one transaction.
        Returns the position the rebuilt view stands at; `progress` hears of each page."""
        return self.rebuild_all([name], progress)

    def rebuild_all(
        self, names: Iterable[str] | None = None, progress: Progress | None = None
    ) -> int:
        """Rebuilds several views (default: all) in one pass over the log."""
        lives = [self._live[name] for name in names or list(self._live)]
        batch = self.rebuild_batch_size
        position = rebuild_views(self.store, self.engine, lives, batch, progress)
        with self._changed:
            self._changed.notify_all()
        return position

    # -- erasure -----------------------------------------------------------------------

    def repair_erasure(self, names: Iterable[str], subject: UUID) -> int:
        """After `subject`'s keys were destroyed: catches these views up (decoding afresh:
        pages decoded before hold the opened fields), then has each rewrite the rows fed by
        the subject's sealed fields (`projections/erasure_repair.py`), live processing of
        them paused meanwhile. A view that cannot, or that is being rebuilt, and every view
        where the store cannot read streams with their positions, is rebuilt. Returns the
        position they stand at."""
        if not self._set_up:
            self.setup()
        wanted = set(names)
        lives = [live for live in self._live.values() if live.projection.name in wanted]
        read = stream_reader(self.store)
        if read is None or any(live.needs_rebuild or live.rebuilding for live in lives):
            return self.rebuild_all([live.projection.name for live in lives])
        self._decoded.forget()
        with ExitStack() as stack:
            for live in lives:  # in the runner's order, as a rebuild of them all takes them
                stack.enter_context(live.lock)
            self._catch_up(lives, DecodedEvents(self.store))
            failed = repair_views(self.store, self.engine, lives, subject, read)
        if failed:
            return self.rebuild_all([live.projection.name for live in failed])
        with self._changed:
            self._changed.notify_all()
        return max((live.position for live in lives), default=0)
