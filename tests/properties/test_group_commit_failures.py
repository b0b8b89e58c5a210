"""A group commit whose writes fail (task RB's review): the latch property next door only
has writes that succeed. Here every write, grouped or alone, may raise a version conflict,
a database error or a BaseException (as a leader thread interrupted mid-write would): every
member must still be answered, by its ids or an error, and none left waiting."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Sequence

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from hypothesis import given, settings
from hypothesis import strategies as st

from application.group_commit import GroupCommitter
from tests.properties.test_group_commit_latches import run_members

STREAMS = [uuid.UUID(int=i + 1) for i in range(3)]
FAILURES: dict[str, type[BaseException] | None] = {
    "ok": None,
    "conflict": IntegrityError,
    "database": OperationalError,
    "interrupt": KeyboardInterrupt,
}


@settings(max_examples=40, deadline=None)
@given(
    plans=st.lists(st.tuples(st.sampled_from(STREAMS), st.integers(1, 3)), min_size=1, max_size=16),
    failures=st.lists(st.sampled_from(sorted(FAILURES)), min_size=1, max_size=8),
    max_batch=st.integers(1, 5),
)
def test_failing_writes_answer_every_member(
    plans: list[tuple[uuid.UUID, int]], failures: list[str], max_batch: int
) -> None:
    recorder = POPOApplicationRecorder()
    outcomes = itertools.cycle(failures)  # the writes' fates, in the order they run
    lock = threading.Lock()

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        time.sleep(0.002)  # a round trip: the other members queue meanwhile
        with lock:
            failure = FAILURES[next(outcomes)]
        if failure is not None:
            raise failure("injected")
        return recorder.insert_events(events)

    committer = GroupCommitter(write, max_batch=max_batch)
    results = run_members(committer, plans)

    assert all(isinstance(r, (list, BaseException)) for r in results)
    ids = [n for r in results if isinstance(r, list) for n in r]
    assert sorted(ids) == list(range(1, len(ids) + 1))  # each stored row answered once
    assert len(ids) == len(recorder.select_notifications(1, 1000))
    assert committer.queued == 0 and not committer._writing  # the next save leads at once
