"""An erasure's targeted repair of the views that hold personal data.

Once a user's keys are destroyed, every event their sealed fields were in decodes with those
fields erased; a rebuild from position 0 would write that into every view, at the cost of
the whole log. Here each view rewrites only the rows those fields fed
(`Projection.repair_erasure`): it finds them through its own rows (the subject's ids),
and either redacts them in place or deletes them and replays the few streams that made them
(`Replay`: the streams' events read by their key, decoded now). All views' repairs are one
transaction, so a crash leaves the views as they were and running the erasure again (it is
idempotent) repairs them; repeating a repair changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Engine

from projections.base import Replay, write_transaction
from projections.event_log import EventLog
from projections.light import decode_events
from projections.live_view import LiveView

StreamReader = Callable[[Sequence[UUID]], Sequence[Notification]]
CHUNK = 500  # streams per query (SQLite's bound parameters)


def stream_reader(store: EventLog) -> StreamReader | None:
    """The recorder's read of whole streams with their positions; None where it has none
    (the in-memory recorder): the views are rebuilt then."""
    return getattr(store.recorder, "select_stream_notifications", None)


def repair_views(
    store: EventLog,
    engine: Engine,
    lives: Sequence[LiveView],
    subject: UUID,
    read: StreamReader,
) -> list[LiveView]:
    """Repairs these views (caught up, their locks held by the caller) in one transaction;
    returns those that cannot repair themselves (to rebuild)."""
    failed: list[LiveView] = []
    with write_transaction(engine) as conn:
        for live in lives:
            replay = _replay(store, live, read)
            if not live.projection.repair_erasure(conn, live.tables, subject, replay):
                failed.append(live)
    return failed


def _replay(store: EventLog, live: LiveView, read: StreamReader) -> Replay:
    topics = frozenset(live.projection.topics)
    upto = live.position  # what the view applied; the rest comes with the next page

    def replay(streams: Collection[UUID]) -> list[tuple[object, int]]:
        ids = sorted(set(streams))
        notes: list[Notification] = []
        for start in range(0, len(ids), CHUNK):
            notes += read(ids[start : start + CHUNK])
        notes.sort(key=lambda n: n.id)
        mine = [n for n in notes if n.id <= upto and (not topics or n.topic in topics)]
        return list(zip(decode_events(store, mine), (n.id for n in mine), strict=True))

    return replay
