"""Grouping never changes an outcome: saves queued behind one commit and written in groups
end exactly as the same saves written one by one in the order they queued (the same saves
win, the same streams end with the same events), and a save that fails fails alone."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import DataError, IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from hypothesis import given, settings
from hypothesis import strategies as st

from application.group_commit import GroupCommitter
from tests.polling import eventually

STREAMS = [uuid.UUID(int=i + 1) for i in range(4)]
PRIMER = uuid.UUID(int=99)
POISON = "poison"  # a topic the database refuses (a bad row): that save fails alone

# A save: for each stream it writes, how far behind the stream its load was (0: current)
# and how many events it appends; and whether one of its rows is bad.
saves = st.lists(
    st.tuples(
        st.dictionaries(
            st.sampled_from(STREAMS),
            st.tuples(st.sampled_from([0, 0, 0, 1, 2]), st.integers(1, 2)),
            min_size=1,
            max_size=3,
        ),
        st.integers(0, 7).map(lambda n: n == 0),
    ),
    min_size=1,
    max_size=10,
)


class Refusing:
    """The recorder's insert, refusing any batch with a poison row; the first call waits
    until `opened`, so everything else queues behind it."""

    def __init__(self, recorder: POPOApplicationRecorder, *, gated: bool) -> None:
        self.recorder = recorder
        self.opened = threading.Event()
        self.calls = 0
        if not gated:
            self.opened.set()

    def __call__(self, events: Sequence[StoredEvent]) -> Sequence[int] | None:
        self.calls += 1
        assert self.opened.wait(10)
        if any(e.topic == POISON for e in events):
            raise DataError("bad row")
        return self.recorder.insert_events(events)


def _version(recorder: POPOApplicationRecorder, stream: uuid.UUID) -> int:
    last = recorder.select_events(stream, desc=True, limit=1)
    return last[0].originator_version if last else 0


def _events(recorder: POPOApplicationRecorder, plan: Any) -> list[StoredEvent]:
    streams, poisoned = plan
    out = []
    for stream, (lag, count) in streams.items():
        base = max(0, _version(recorder, stream) - lag)
        out += [
            StoredEvent(stream, base + k, "topic", f"{stream}:{base + k}".encode())
            for k in range(1, count + 1)
        ]
    if poisoned:
        out[-1] = StoredEvent(out[-1].originator_id, out[-1].originator_version, POISON, b"")
    return out


def _outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, call()
    except (IntegrityError, DataError) as exc:
        return False, exc


@settings(max_examples=60, deadline=None)
@given(plans=saves, max_batch=st.integers(1, 6))
def test_grouped_saves_end_as_the_same_saves_one_by_one(plans: list[Any], max_batch: int) -> None:
    # One by one, in order; each save's events are built from the state it would have loaded.
    alone = POPOApplicationRecorder()
    members: list[list[StoredEvent]] = []
    expected: list[bool] = []
    write_alone = Refusing(alone, gated=False)
    for plan in plans:
        events = _events(alone, plan)
        members.append(events)
        expected.append(_outcome(lambda events=events: write_alone(events))[0])

    # The same saves queued in the same order behind a commit that waits, then grouped.
    grouped = POPOApplicationRecorder()
    write = Refusing(grouped, gated=True)
    committer = GroupCommitter(write, max_batch=max_batch)
    results: list[tuple[bool, Any] | None] = [None] * len(members)
    primer = threading.Thread(target=committer.submit, args=([StoredEvent(PRIMER, 1, "t", b"")],))
    primer.start()
    eventually(lambda: write.calls == 1, "the primer's write", interval=0.0005)
    threads = []
    for i, events in enumerate(members):

        def run(i: int = i, events: list[StoredEvent] = events) -> None:
            results[i] = _outcome(lambda: committer.submit(events))

        threads.append(threading.Thread(target=run))
        threads[-1].start()
        eventually(lambda i=i: committer.queued == i + 1, "the member queued", interval=0.0005)
    write.opened.set()
    for t in [primer, *threads]:
        t.join(10)
        assert not t.is_alive()

    assert [r is not None and r[0] for r in results] == expected
    for stream in STREAMS:
        assert grouped.select_events(stream) == alone.select_events(stream)
    for events, result in zip(members, results, strict=True):
        assert result is not None
        ok, ids = result
        if ok:  # each member's ids are its own rows
            assert len(ids) == len(events)
            for event, n_id in zip(events, ids, strict=True):
                (found,) = grouped.select_notifications(n_id, 1)
                assert (found.originator_id, found.originator_version) == (
                    event.originator_id,
                    event.originator_version,
                )
