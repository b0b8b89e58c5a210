"""The group committer's counters (what `bench/http_wrk.py` reports per group)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from application.group_commit import GroupCommitter
from tests.polling import eventually


def _event() -> StoredEvent:
    return StoredEvent(uuid.uuid4(), 1, "topic", b"{}")


def test_counters_count_groups_members_and_the_threads_a_leader_wakes() -> None:
    recorder = POPOApplicationRecorder()
    writing, release = threading.Event(), threading.Event()

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        if not writing.is_set():  # the first group holds the write until two more queued
            writing.set()
            release.wait(5)
        return recorder.insert_events(events)

    committer = GroupCommitter(write)
    first = threading.Thread(target=committer.submit, args=([_event()],))
    first.start()
    assert writing.wait(5)
    later = [threading.Thread(target=committer.submit, args=([_event()],)) for _ in range(2)]
    for t in later:
        t.start()
    eventually(lambda: committer.queued == 2 or None, "two saves queued")
    release.set()
    for t in [first, *later]:
        t.join(5)
    # Group 1 (alone) wakes the next leader; group 2 (two members) wakes its other member.
    assert (committer.groups, committer.members, committer.notifies) == (2, 3, 2)
    assert committer.lead_cpu_s > 0
