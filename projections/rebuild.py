"""Rebuilding views from position 0 into fresh tables, then swapping them in.

The live views keep serving meanwhile. Several views rebuild in one pass over the log:
decoding is a large share of a rebuild, so each page is read once, decoded once, and applied
to every fresh view in one transaction (with every tracking row). The fresh tables start with
their keys, unique indexes and the indexes a view reads by while it folds
(`Projection.folds_by`); the others are built once the first pass is in, from the loaded rows,
rather than kept up row by row (the audit view's five were a quarter of PostgreSQL's time in
a rebuild). Only the rebuild writes its fresh tables, so the keys it has written are all
their rows: new rows go in by COPY on PostgreSQL and are never looked up
(`projections/fresh_tables.py`). Once the rebuild has caught up, live processing of those
views pauses (their locks) while the last events are applied and each view's fresh tables
replace its live ones under the canonical names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Index, MetaData, Table, inspect, text
from sqlalchemy.schema import CreateIndex, CreateTable

from projections import tracking
from projections.base import new_metadata, read_topics, write_transaction
from projections.event_log import EventLog
from projections.fresh_tables import forget_fresh, mark_fresh, watch_inserts
from projections.gc_pause import gc_paused
from projections.light import blind_topics, decode_events
from projections.live_view import LiveView
from projections.stored import plain_json, timestamp_of, to_decode

CHASE_PASSES = 5  # then pause live processing and finish; a busy writer cannot starve us


@dataclass
class _Plan:
    live: LiveView
    metadata: MetaData
    tables: dict[str, Table]
    track_as: str
    topics: frozenset[str]
    deferred: list[Index]  # built once the first pass is in
    stored: bool  # reads stored events, not decoded ones (`Projection.reads_stored`)


Progress = Callable[[int, int], None]  # (position applied, head), for a progress bar


def rebuild_views(
    store: EventLog,
    engine: Engine,
    lives: Sequence[LiveView],
    batch: int,
    progress: Progress | None = None,
) -> int:
    """Rebuilds these views, reading `batch` events a page; returns the position they
    stand at. `progress` hears of each page applied (the head moves while live writes go on)."""
    plans = []
    plain = plain_json(store)
    for live in lives:
        name = live.projection.name
        suffix = f"__rb{uuid.uuid4().hex[:8]}"
        metadata = new_metadata()
        tables = live.projection.define_tables(metadata, suffix)
        _drop_abandoned_rebuilds(engine, live)
        topics = frozenset(live.projection.topics)
        stored = plain and live.projection.reads_stored
        plans.append(_Plan(live, metadata, tables, name + suffix, topics, [], stored))
    with write_transaction(engine) as conn:
        for plan in plans:
            plan.deferred = _create_keyed_tables(conn, plan.metadata, plan.tables, plan.live)
            tracking.start(
                conn, plan.track_as, plan.live.projection.version, status=tracking.REBUILDING
            )
    union = read_topics([p.topics for p in plans])  # one read serves every view
    # personal topics none of these views reads the personal fields of: built light
    blind = blind_topics([(p.topics, p.live.projection.reads_personal) for p in plans])
    position = 0
    for plan in plans:  # written by this rebuild alone until the swap
        mark_fresh(plan.tables.values())
    unwatch = watch_inserts(engine)

    def apply_page(head: int) -> int:
        """Applies the page after `position` to every view; returns the position it ends at.
        A function of its own so the page's objects are gone when the collector comes back:
        left alive in `advance_to`, the collection that `gc_paused`'s end sets off scanned
        them all, ~11% of a single view's rebuild (py-spy)."""
        notes = store.recorder.select_notifications(
            position, batch, stop=head, topics=union, inclusive_of_start=False
        )
        new_position = notes[-1].id if len(notes) == batch else head
        # Decoded only what views that decode want; views reading stored events get
        # the decoded ones where there are (cheaper to read) and the stored ones else.
        wanted = to_decode(notes, [p.topics for p in plans if not p.stored])
        events = decode_events(store, [n for i, n in enumerate(notes) if i in wanted], blind)
        found = iter(events)
        pairs = [(next(found) if i in wanted else n, n.id) for i, n in enumerate(notes)]
        topics = [n.topic for n in notes]
        present = frozenset(topics)
        last_at = timestamp_of(pairs[-1][0]) if pairs else None
        with write_transaction(engine) as conn:
            tracking.advance_all(
                conn,
                [plan.track_as for plan in plans],
                expected=position,
                position=new_position,
                last_event_at=last_at,
                status=tracking.REBUILDING,
            )
            for plan in plans:
                if not plan.topics or present <= plan.topics:
                    page = list(pairs)  # the whole page: no per-event filter
                else:
                    own = plan.topics
                    page = [x for x, t in zip(pairs, topics, strict=True) if t in own]
                if page:
                    plan.live.projection.process_page(conn, plan.tables, page)
        return new_position

    def advance_to(head: int) -> None:
        nonlocal position
        while position < head:
            with gc_paused():
                new_position = apply_page(head)
            position = new_position
            if progress is not None:
                progress(position, head)

    try:
        for _ in range(CHASE_PASSES):
            head = store.current_position()
            advance_to(head)
            if store.current_position() - head <= batch:
                break
        with write_transaction(engine) as conn:  # before the pause: live views go on meanwhile
            for plan in plans:
                for index in plan.deferred:
                    conn.execute(CreateIndex(index))
        with ExitStack() as stack:
            for plan in plans:  # live processing of these views pauses here
                stack.enter_context(plan.live.lock)
            advance_to(store.current_position())
            for plan in plans:
                _swap(engine, plan.live, plan.tables, plan.track_as)
                plan.live.position = position
                plan.live.status, plan.live.needs_rebuild = tracking.OK, False
    except BaseException:
        with write_transaction(engine) as conn:
            for plan in plans:
                plan.metadata.drop_all(conn, checkfirst=True)
                tracking.forget(conn, plan.track_as)
        raise
    finally:
        unwatch()
        for plan in plans:
            forget_fresh(plan.tables.values())
    return position


def _create_keyed_tables(
    conn: Connection, metadata: MetaData, tables: dict[str, Table], live: LiveView
) -> list[Index]:
    """Creates the tables with their keys, constraints, unique indexes and the indexes the
    view folds by; returns the others, to build later."""
    folds_by = set(live.projection.folds_by)
    logical = {table.name: name for name, table in tables.items()}
    deferred: list[Index] = []
    for table in metadata.sorted_tables:
        conn.execute(CreateTable(table))
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            first = next((c.name for c in index.columns), None)
            if index.unique or (logical.get(table.name), first) in folds_by:
                conn.execute(CreateIndex(index))
            else:
                deferred.append(index)
    return deferred


def _swap(engine: Engine, live: LiveView, fresh: dict[str, Table], track_as: str) -> None:
    with write_transaction(engine) as conn:
        live.metadata.drop_all(conn, checkfirst=True)
        preparer = engine.dialect.identifier_preparer
        for logical, table in fresh.items():
            conn.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} "
                    f"RENAME TO {preparer.quote(live.tables[logical].name)}"
                )
            )
        tracking.replace(conn, live.projection.name, track_as, live.projection.version)


def _drop_abandoned_rebuilds(engine: Engine, live: LiveView) -> None:
    """Tables of a rebuild that crashed before its swap."""
    name = live.projection.name
    prefix = f"{name}__rb"
    with write_transaction(engine) as conn:
        leftovers = [r.name for r in tracking.load_all(conn) if r.name.startswith(prefix)]
        existing = set(inspect(conn).get_table_names())
        for track_as in leftovers:
            meta = new_metadata()
            tables = live.projection.define_tables(meta, track_as[len(name) :])
            meta.drop_all(conn, tables=[t for t in tables.values() if t.name in existing])
            tracking.forget(conn, track_as)
