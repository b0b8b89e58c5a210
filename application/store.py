"""The event store application every use case records through.

One eventsourcing Application holds every aggregate, so a single `save()` can change several
of them atomically (calendar hold + booking) and one notification log orders all events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from itertools import chain
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
    Transcoding,
)

from application import saved_aggregates
from application.aggregate_cache import AggregateCache, Entry
from application.context import current_context
from application.event_transcoder import EventTranscoder
from application.group_commit import GroupCommitter
from application.personal_keys import KeyRing
from application.personal_mapper import PersonalDataMapper
from application.saves_in_flight import SavesInFlight
from domain.calendar import ListingCalendar
from domain.errors import NotFoundError
from domain.event_meta import META_KEY
from domain.listing import Listing
from domain.owner_account import OwnerAccount
from domain.user import User

A = TypeVar("A")
CachedT = TypeVar("CachedT", bound=Aggregate)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EventStore(Application[UUID]):
    name = "Rentbook"
    log_section_size = 1000
    # Streams that grow with use load from their latest snapshot plus its tail: calendars
    # (every booking), owner accounts (every processor report), listings (price
    # overrides), users (lockouts, password rehashes).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        ListingCalendar: 50,
        OwnerAccount: 50,
        Listing: 50,
        User: 50,
    }
    # What a placement loads every time: cached per process when `cache_size` > 0, and
    # fast-forwarded on every load (see `application.aggregate_cache`).
    cached_types: ClassVar[tuple[type[Aggregate], ...]] = (Listing, ListingCalendar)

    def __init__(
        self,
        env: dict[str, str] | None = None,
        keyring: KeyRing | None = None,
        *,
        group_commit: bool = True,
        group_window: float = 0.0,
        cache_size: int = 0,
        cache_bytes: int | None = None,
    ) -> None:
        self.keyring = keyring  # personal fields are stored encrypted when there is one
        super().__init__(env)
        self.aggregate_cache = (
            AggregateCache(cache_size, self.cached_types, max_bytes=cache_bytes)
            if cache_size > 0
            else None
        )
        self.in_flight = SavesInFlight()  # of cached types; loads of those wait for them
        self._listeners: list[Callable[[int], None]] = []
        self._listeners_lock = threading.Lock()
        # `record(..., grouped=True)` saves share transactions through it; None: each alone.
        self.committer = (
            GroupCommitter(
                self.recorder.insert_events,
                checked_write=getattr(self.recorder, "insert_events_checked", None),
                window=group_window,
            )
            if group_commit
            else None
        )

    def construct_mapper(self) -> Mapper[UUID]:
        if self.keyring is None:
            return super().construct_mapper()
        return PersonalDataMapper(self.construct_transcoder(), self.keyring)

    def construct_transcoder(self) -> Transcoder:
        transcoder = super().construct_transcoder()
        if type(transcoder) is not JSONTranscoder:
            return transcoder  # TRANSCODER_TOPIC chose another
        faster = EventTranscoder()  # the same encoding, a faster decode of our events
        self.register_transcodings(faster)
        return faster

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def add_listener(self, callback: Callable[[int], None]) -> None:
        """Called with the new position after every save (wakes in-process projections)."""
        with self._listeners_lock:
            self._listeners.append(callback)

    def wake_listeners(self) -> None:
        """Calls every listener as a save would (with the position 0), so a follower waiting
        for the next save looks at its stop flag now rather than after its poll interval."""
        with self._listeners_lock:
            callbacks = list(self._listeners)
        for callback in callbacks:
            callback(0)

    def remove_listener(self, callback: Callable[[int], None]) -> None:
        with self._listeners_lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def record(
        self,
        *aggregates: Aggregate | None,
        grouped: bool = False,
        reads: tuple[Aggregate, ...] = (),
    ) -> int:
        """Saves aggregates in one transaction, stamped with the command context;
        returns the notification position of the last event (0 if nothing was new).
        `grouped`: the transaction may be shared with concurrent grouped saves (see
        `application.group_commit`); the outcome is the same as saving alone.
        `reads`: aggregates the save decided on without changing them; where the store
        `acts_on_cache`, a grouped save fails (`IntegrityError`) unless they are still at
        these versions when it commits."""
        meta = current_context().as_dict()
        for agg in aggregates:
            if agg is not None:
                for event in agg.pending_events:
                    object.__setattr__(event, META_KEY, meta)
        cache = self.aggregate_cache
        cached = (
            [a for a in aggregates if isinstance(a, self.cached_types)] if cache is not None else []
        )
        with self.in_flight.saving([a.id for a in cached]) if cached else nullcontext():
            try:
                if grouped and self.committer is not None:
                    recordings = self._save_grouped(self.committer, aggregates, reads)
                else:
                    recordings = self._save_alone(aggregates)
            except IntegrityError:
                saved_aggregates.forget_all()  # a retry must load what the winner saved
                if cache is not None:  # written elsewhere too, maybe: read them first
                    cache.suspect(*(a.id for a in (*cached, *reads)))
                raise
            if cache is not None:
                for aggregate in cached:  # committed: what this process's next load starts from
                    cache.put(aggregate)
        saved_aggregates.remember(aggregates)
        position = max((r.notification.id for r in recordings), default=0)
        if position:
            for callback in list(self._listeners):
                callback(position)
        return position

    def _save_alone(self, aggregates: tuple[Aggregate | None, ...]) -> list[Recording[UUID]]:
        """`Application.save` of aggregates, without its runtime Protocol checks."""
        processing = _collect(aggregates)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _save_grouped(
        self,
        committer: GroupCommitter,
        aggregates: tuple[Aggregate | None, ...],
        reads: tuple[Aggregate, ...] = (),
    ) -> list[Recording[UUID]]:
        """`Application.save`, with the insert handed to the committer: events are encoded
        here, in the caller's thread, and snapshots taken here after the commit."""
        processing = _collect(aggregates)
        stored = [self.mapper.to_stored_event(e) for e in processing.events]
        versions = {a.id: a.version for a in reads if a.id not in processing.aggregates}
        ids = committer.submit(stored, versions) if stored else []
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        recordings = [
            Recording(
                event,
                Notification(
                    id=n_id,
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                ),
            )
            for event, s, n_id in zip(processing.events, stored, ids, strict=True)
        ]
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def load(
        self, aggregate_id: UUID, kind: str, *, version: int | None = None, read_only: bool = False
    ) -> Any:
        """`read_only`: the caller only reads the result, so what this request saved under
        that id may come back itself rather than a copy."""
        if read_only and version is None and (saved := saved_aggregates.peek(aggregate_id)):
            return saved
        if version is not None:
            return self._get(aggregate_id, kind, version)
        return self.load_all((aggregate_id, kind))[0]

    @property
    def acts_on_cache(self) -> bool:
        """Whether a grouped save checks its `reads` in its own transaction, so a command
        may act on cached states without reading (`load_cached`)."""
        committer = self.committer
        return self.aggregate_cache is not None and committer is not None and committer.checks_reads

    def load_cached(self, *ids: UUID) -> list[Any] | None:
        """The cached states of `ids` (shared: `own` gives a copy to act on) without asking
        the database, or None unless all are cached, `trusted` and the store `acts_on_cache`.
        They may be stale: the caller saves grouped with the ones it does not change as
        `reads`, and on a conflict, or before refusing on their evidence, uses `load_all`."""
        cache = self.aggregate_cache
        if cache is None or not self.acts_on_cache:
            return None
        self.in_flight.wait(ids)  # a save under way here: act on what it commits
        if any(saved_aggregates.peek(aggregate_id) is not None for aggregate_id in ids):
            return None  # this request saved one: `load_all` recalls it
        entries = [(i, e) for i in ids if cache.trusted(i) and (e := cache.get(i)) is not None]
        return [cache.shared(i, e) for i, e in entries] if len(entries) == len(ids) else None

    def load_all(self, *wanted: tuple[UUID, str], shared: bool = False) -> list[Any]:
        """The current state of each (id, kind): what this request saved, else read in ONE
        query for all of them where the recorder can (`select_streams`, PostgreSQL): the
        cached state's new events, or the latest snapshot and its tail. Elsewhere cached
        states get their new events stream by stream, the rest load the library's way.
        `shared`: cached types may come back as an instance other callers share (read it,
        never change it: `own` gives the caller a copy to act on)."""
        found: dict[int, Any] = {}
        cache = self.aggregate_cache
        if cache is not None:  # a save under way here: read what it commits
            self.in_flight.wait(aggregate_id for aggregate_id, _ in wanted)
        reads: list[tuple[int, UUID, Entry | None]] = []
        kept: set[int] = set()  # not to be offered for sharing: recalled, or shared already
        for i, (aggregate_id, _) in enumerate(wanted):
            if (saved := saved_aggregates.recall(aggregate_id)) is not None:
                found[i] = saved
                kept.add(i)
            else:
                entry = cache.get(aggregate_id) if cache is not None else None
                reads.append((i, aggregate_id, entry))
        select_streams = getattr(self.recorder, "select_streams", None)
        if reads and (select_streams is not None or cache is not None):
            after = [(aggregate_id, e.version if e else None) for _, aggregate_id, e in reads]
            # A read shared with racers waits for a save of these streams begun meanwhile
            # (a race's winner): the losers then see its state at once, woken only once.
            ids = [aggregate_id for aggregate_id, _ in after]

            def saves_ended() -> None:
                if cache is not None:
                    self.in_flight.wait(ids)

            streams = (
                select_streams(after, self._snapshots_table(), saves_ended)
                if select_streams is not None
                else self._read_tails(after)
            )
            for i, aggregate_id, entry in reads:
                snapshot, stored = streams.get(aggregate_id, (None, []))
                if entry is None and select_streams is None:
                    continue  # cold, without a one-query reader: the library's way below
                events = map(self.mapper.to_domain_event, stored)
                if entry is not None and cache is not None:
                    if shared and not stored:
                        aggregate = cache.shared(aggregate_id, entry)
                        kept.add(i)
                    elif (
                        shared
                        and (ahead := cache.get(aggregate_id)) is not None
                        and (ahead.version == stored[-1].originator_version)
                    ):  # the cache holds that version (the winner saved it): share it
                        aggregate = cache.shared(aggregate_id, ahead)
                        kept.add(i)
                    else:
                        aggregate = cache.advance(entry, events)
                else:
                    start = [self.mapper.to_domain_event(snapshot)] if snapshot else []
                    aggregate = project_aggregate(None, chain(start, events))
                    if aggregate is not None and cache is not None:
                        cache.put(aggregate)
                if aggregate is not None:
                    found[i] = aggregate
        for i, (aggregate_id, kind) in enumerate(wanted):
            if i not in found:  # not found (raises), or not read above
                found[i] = self._get(aggregate_id, kind)
                if cache is not None:
                    cache.put(found[i])
        if shared and cache is not None:
            for i, aggregate in found.items():
                if i not in kept and isinstance(aggregate, self.cached_types):
                    cache.share(aggregate)
        return [found[i] for i in range(len(wanted))]

    def own(self, aggregate: A) -> A:
        """A copy of an aggregate from `load_all(shared=True)` that the caller may change
        (the instance itself when no other caller was handed it)."""
        cache = self.aggregate_cache
        if cache is None or not isinstance(aggregate, self.cached_types):
            return aggregate
        owned: A = cache.own(aggregate)
        return owned

    def is_current(self, aggregate: Aggregate) -> bool:
        """False when this process has committed a later version of the aggregate (after
        waiting for its saves under way): acting on it could only conflict. True is no
        promise: only the save's version check is."""
        cache = self.aggregate_cache
        if cache is None or not isinstance(aggregate, self.cached_types):
            return True
        self.in_flight.wait((aggregate.id,))
        return cache.version(aggregate.id) <= aggregate.version

    def latest(self, aggregate: CachedT) -> CachedT:
        """The latest committed state of a cached aggregate this process holds, if later than
        `aggregate` (shared: read it only), else `aggregate`. Committed after what the
        caller read, so during its request: an answer from it is one the caller could get."""
        cache = self.aggregate_cache
        entry = cache.get(aggregate.id) if cache is not None else None
        if cache is None or entry is None or entry.version <= aggregate.version:
            return aggregate
        newer: CachedT = cache.shared(aggregate.id, entry)
        return newer

    def _get(self, aggregate_id: UUID, kind: str, version: int | None = None) -> Any:
        try:
            return self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFoundError(f"{kind}_not_found", f"{kind} {aggregate_id} not found") from None

    def _read_tails(
        self, after: list[tuple[UUID, int | None]]
    ) -> dict[UUID, tuple[None, list[StoredEvent]]]:
        """The cached streams' new events, one query each (recorders without
        `select_streams`: SQLite, memory)."""
        return {
            stream: (None, list(self.recorder.select_events(stream, gt=version)))
            for stream, version in after
            if version is not None
        }

    def _snapshots_table(self) -> str | None:
        snapshots = self.snapshots
        return getattr(snapshots.recorder, "events_table_name", None) if snapshots else None

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def current_position(self) -> int:
        return self.recorder.max_notification_id() or 0


def _collect(aggregates: tuple[Aggregate | None, ...]) -> ProcessingEvent[UUID]:
    """`ProcessingEvent.collect_events` for aggregates only: its `isinstance` checks against
    runtime Protocols cost ~0.1 ms a save (Python 3.11), more than the rest of it."""
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    for aggregate in aggregates:
        if aggregate is not None:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
    return processing
