"""Rebuilding several views in one pass over the log.

`ProjectionRunner.rebuild(name)` reads and decodes the whole log once per view; decoding is
a large share of a rebuild, so this reads each page once, decodes it once, and applies it to
every fresh view in one transaction (with every tracking row), then swaps each view in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, Table

from projections import tracking
from projections.base import new_metadata, write_transaction

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner, _Live

CHASE_PASSES = 5  # then pause live processing and finish; a busy writer cannot starve us


@dataclass
class _Plan:
    live: _Live
    metadata: MetaData
    tables: dict[str, Table]
    track_as: str
    topics: frozenset[str]


def rebuild_all(runner: ProjectionRunner, names: Iterable[str] | None = None) -> int:
    """Rebuilds the named views (default: all) and returns the position they stand at."""
    plans = []
    for name in names or list(runner._live):
        live = runner._live[name]
        suffix = f"__rb{uuid.uuid4().hex[:8]}"
        metadata = new_metadata()
        tables = live.projection.define_tables(metadata, suffix)
        runner._drop_abandoned_rebuilds(name)
        topics = frozenset(live.projection.topics)
        plans.append(_Plan(live, metadata, tables, name + suffix, topics))
    with write_transaction(runner.engine) as conn:
        for plan in plans:
            plan.metadata.create_all(conn)
            tracking.start(
                conn, plan.track_as, plan.live.projection.version, status=tracking.REBUILDING
            )
    # One read serves every view: all topics, unless some view wants everything.
    union: tuple[str, ...] = ()
    if all(p.topics for p in plans):
        union = tuple(sorted(set().union(*(p.topics for p in plans))))
    position = 0
    to_event = runner.store.mapper.to_domain_event
    batch = runner.rebuild_batch_size

    def advance_to(head: int) -> None:
        nonlocal position
        while position < head:
            notes = runner.store.recorder.select_notifications(
                position, batch, stop=head, topics=union, inclusive_of_start=False
            )
            new_position = notes[-1].id if len(notes) == batch else head
            decoded = [(to_event(n), n.id, n.topic) for n in notes]
            last_at = getattr(decoded[-1][0], "timestamp", None) if decoded else None
            with write_transaction(runner.engine) as conn:
                for plan in plans:
                    tracking.advance(
                        conn,
                        plan.track_as,
                        expected=position,
                        position=new_position,
                        last_event_at=last_at,
                        status=tracking.REBUILDING,
                    )
                    page = [(e, p) for e, p, t in decoded if not plan.topics or t in plan.topics]
                    if page:
                        plan.live.projection.process_page(conn, plan.tables, page)
            position = new_position

    try:
        for _ in range(CHASE_PASSES):
            head = runner.store.current_position()
            advance_to(head)
            if runner.store.current_position() - head <= batch:
                break
        with ExitStack() as stack:
            for plan in plans:  # live processing of these views pauses here
                stack.enter_context(plan.live.lock)
            advance_to(runner.store.current_position())
            for plan in plans:
                runner._swap(plan.live, plan.tables, plan.track_as)
                plan.live.position = position
                plan.live.status, plan.live.needs_rebuild = tracking.OK, False
    except BaseException:
        with write_transaction(runner.engine) as conn:
            for plan in plans:
                plan.metadata.drop_all(conn, checkfirst=True)
                tracking.forget(conn, plan.track_as)
        raise
    with runner._changed:
        runner._changed.notify_all()
    return position
