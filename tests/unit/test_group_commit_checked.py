"""The group commit with a checked write: members whose reads (or written streams) moved are
rejected from their group with an `IntegrityError`, the rest are written again as a group,
and a member's reads this process has already committed past fail before any write."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.group_commit import GroupCommitter, StaleStreamsError


class FakeStore:
    """Latest version per stream; a checked write inserts all or names the failed checks.
    The first write waits for `opened`, so the members submitted meanwhile form one group."""

    def __init__(self) -> None:
        self.versions: dict[Any, int] = {}
        self.writes: list[int] = []  # events per write
        self.opened = threading.Event()
        self.entered = threading.Event()  # the first write has begun
        self._next_id = 0

    def write(self, events: Sequence[StoredEvent]) -> list[int]:
        raise AssertionError("a checked committer writes checked")

    def checked(
        self, events: Sequence[StoredEvent], checks: Sequence[tuple[Any, int]]
    ) -> list[int]:
        if not self.writes:
            self.entered.set()
            assert self.opened.wait(10)
        self.writes.append(len(events))
        stale = {(s, v) for s, v in checks if self.versions.get(s, 0) != v}
        if stale:
            raise StaleStreamsError(stale)
        ids = []
        for e in events:
            self.versions[e.originator_id] = e.originator_version
            self._next_id += 1
            ids.append(self._next_id)
        return ids


def event(stream: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id=stream, originator_version=version, topic="t", state=b"")


def test_stale_members_leave_the_group_and_the_rest_commit_together() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.write, checked_write=store.checked)
    listings = [uuid.uuid4() for _ in range(4)]
    calendars = [uuid.uuid4() for _ in range(4)]
    for listing in listings:
        store.versions[listing] = 3
    for calendar in calendars:
        store.versions[calendar] = 5
    store.versions[listings[1]] = 4  # another process changed listing 1
    store.versions[calendars[2]] = 6  # ... and booked on calendar 2
    outcomes: dict[int, Any] = {}

    def member(i: int) -> None:
        try:
            outcomes[i] = committer.submit(
                [event(calendars[i], 6), event(uuid.uuid4(), 1)], {listings[i]: 3}
            )
        except IntegrityError as exc:
            outcomes[i] = exc

    first = threading.Thread(target=member, args=(0,))
    first.start()
    assert store.entered.wait(10)  # the first leads and waits in its write
    rest = [threading.Thread(target=member, args=(i,)) for i in (1, 2, 3)]
    for t in rest:
        t.start()
    while committer.queued < 3:
        threading.Event().wait(0.001)
    store.opened.set()
    for t in (first, *rest):
        t.join(10)

    assert isinstance(outcomes[0], list) and isinstance(outcomes[3], list)
    assert isinstance(outcomes[1], IntegrityError) and isinstance(outcomes[2], IntegrityError)
    assert store.writes == [2, 6, 2]  # member 0 alone; the group of three; member 3 again
    assert committer.stale_members == 2 and committer.fallbacks == 0
    assert store.versions[calendars[3]] == 6 and store.versions[calendars[2]] == 6


def test_a_read_this_process_committed_past_fails_without_a_write() -> None:
    store = FakeStore()
    store.opened.set()
    committer = GroupCommitter(store.write, checked_write=store.checked)
    listing = uuid.uuid4()
    store.versions[listing] = 1
    committer.submit([event(listing, 2)])  # this process moved the listing to version 2
    writes = len(store.writes)
    with pytest.raises(IntegrityError):
        committer.submit([event(uuid.uuid4(), 1)], {listing: 1})
    assert len(store.writes) == writes
    assert committer.checks_reads
    assert not GroupCommitter(store.write).checks_reads
