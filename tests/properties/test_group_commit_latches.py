"""Each member of a group commit waits on a latch (a held lock) that is released exactly
once: when it is answered, made the next leader, or refused as stale while queued (a
member refused before it queued never waits). One never released would hang its member."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from hypothesis import given, settings
from hypothesis import strategies as st

from application import group_commit
from application.group_commit import GroupCommitter

STREAMS = [uuid.UUID(int=i + 1) for i in range(3)]


class _CountingLatch:
    """The member's latch, counting its acquires (the first is the member's own, held
    from the start; a second is the member waiting) and releases."""

    def __init__(self, latch: Any) -> None:
        self.latch, self.acquires, self.releases = latch, 0, 0

    def acquire(self) -> bool:
        self.acquires += 1
        return bool(self.latch.acquire())

    def release(self) -> None:
        self.releases += 1
        self.latch.release()


class _Counted(group_commit._Member):
    """A member that records itself, so the test can look at every latch afterwards."""

    made: list[_Counted] = []

    def __init__(self, events: Sequence[StoredEvent], reads: dict[Any, int]) -> None:
        super().__init__(events, reads)
        self.done = _CountingLatch(self.done)  # type: ignore[assignment]
        self.done.acquires = 1  # taken in `_Member.__init__`
        _Counted.made.append(self)


def run_members(committer: GroupCommitter, plans: list[tuple[uuid.UUID, int]]) -> list[Any]:
    """Every plan (stream, version) submitted from its own thread, released at once; each
    result is what `submit` returned or raised (test_group_commit_failures uses it too)."""
    results: list[Any] = [None] * len(plans)
    start = threading.Barrier(len(plans))

    def run(i: int, stream: uuid.UUID, version: int) -> None:
        start.wait(10)
        try:
            results[i] = committer.submit([StoredEvent(stream, version, "t", b"{}")])
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, *p)) for i, p in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
        assert not t.is_alive(), "a member was never released"
    return results


@settings(max_examples=40, deadline=None)
@given(
    plans=st.lists(st.tuples(st.sampled_from(STREAMS), st.integers(1, 3)), min_size=1, max_size=24),
    max_batch=st.integers(1, 5),
)
def test_every_member_is_released_once_and_answered(
    plans: list[tuple[uuid.UUID, int]], max_batch: int
) -> None:
    recorder = POPOApplicationRecorder()

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        time.sleep(0.002)  # a round trip: the other members queue meanwhile
        return recorder.insert_events(events)

    committer = GroupCommitter(write, max_batch=max_batch)
    counted: list[_Counted] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_Counted, "made", counted)
        patch.setattr(group_commit, "_Member", _Counted)
        results = run_members(committer, plans)

    assert len(counted) == len(plans)
    for m in counted:  # a member that waited was released, and none twice
        latch: Any = m.done
        assert latch.acquires - 1 <= latch.releases <= 1
    ids = [n for r in results if isinstance(r, list) for n in r]
    assert sorted(ids) == list(range(1, len(ids) + 1))  # each row answered to one member
    assert all(isinstance(r, (list, IntegrityError)) for r in results)
    assert committer.members == sum(isinstance(r, list) for r in results) + sum(
        isinstance(r, IntegrityError) and "grouped save" not in str(r) for r in results
    )
