"""The group committer's edges, and grouped booking saves through the event store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from application.context import Actor
from application.group_commit import GroupCommitter
from domain.calendar import ListingCalendar
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import NOW, make_world, memory_store
from tests.polling import eventually


def _event(stream: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(stream, version, "topic", b"{}")


def test_a_database_failure_fails_its_own_group_and_the_next_group_commits() -> None:
    recorder = POPOApplicationRecorder()
    opened, calls = threading.Event(), []

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        calls.append(len(events))
        if len(calls) == 1:
            opened.wait(10)
        if len(calls) == 2:
            raise OperationalError("server closed the connection")
        return recorder.insert_events(events)

    committer = GroupCommitter(write)
    outcomes: dict[int, object] = {}

    def submit(i: int) -> None:
        try:
            outcomes[i] = committer.submit([_event(uuid.UUID(int=i + 1), 1)])
        except OperationalError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(4)]
    threads[0].start()
    eventually(lambda: bool(calls), "the first write", interval=0.001)
    for t in threads[1:]:
        t.start()
    eventually(lambda: committer.queued == 3, "three queued", interval=0.001)
    opened.set()
    for t in threads:
        t.join(10)
    assert calls == [1, 3]  # one group of three after the first, and no retry one by one
    assert outcomes[0] == [1]
    assert all(isinstance(outcomes[i], OperationalError) for i in (1, 2, 3))
    assert committer.submit([_event(uuid.UUID(int=9), 1)]) == [2]  # not stuck


def test_a_save_behind_what_this_process_committed_fails_without_a_round_trip() -> None:
    writes: list[int] = []
    recorder = POPOApplicationRecorder()

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        writes.append(len(events))
        return recorder.insert_events(events)

    committer = GroupCommitter(write)
    stream = uuid.uuid4()
    committer.submit([_event(stream, 1), _event(stream, 2)])
    with pytest.raises(IntegrityError):
        committer.submit([_event(stream, 2)])
    assert writes == [2]
    assert committer.submit([_event(stream, 3)]) == [3]


def test_grouped_placements_give_the_positions_and_snapshots_of_saving_alone() -> None:
    def placements(grouped: bool) -> tuple[list[int], bool]:
        store = memory_store()
        if not grouped:
            store.committer = None
        world = make_world(store)
        listing_id = world.active_listing()
        positions = []
        for day in range(55):  # the calendar passes its snapshot interval (50)
            night = date(2026, 7, 1) + timedelta(days=day)
            _, position = world.bookings.place(
                Actor(uuid.UUID(int=day + 1), "user"), listing_id,
                start=night.isoformat(), end=(night + timedelta(days=1)).isoformat(),
                quantity=1, guests=1, at=NOW, booking_id=uuid.UUID(int=1000 + day),
            )  # fmt: skip
            assert position == store.current_position()  # its own last event
            positions.append(position)
        assert store.snapshots is not None
        snapshotted = any(store.snapshots.get(ListingCalendar.create_id(listing_id)))
        return positions, snapshotted

    assert placements(grouped=True) == placements(grouped=False)
    assert placements(grouped=True)[1]


def test_group_commit_is_on_unless_turned_off(tmp_path: Path) -> None:
    on = build_event_store(Settings(environment="test", data_dir=tmp_path / "on"))
    off = build_event_store(
        Settings(environment="test", data_dir=tmp_path / "off", group_commit=False)
    )
    try:
        assert on.committer is not None
        assert off.committer is None
    finally:
        on.close()
        off.close()


def test_with_a_window_a_fresh_leader_waits_for_peers_once_there_is_concurrency() -> None:
    recorder = POPOApplicationRecorder()
    opened, writes = threading.Event(), []

    def write(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        writes.append(len(events))
        assert opened.wait(10)
        return recorder.insert_events(events)

    committer = GroupCommitter(write, window=2.0)

    def submit_all(count: int) -> list[threading.Thread]:
        threads = []
        for _ in range(count):
            threads.append(
                threading.Thread(target=committer.submit, args=([_event(uuid.uuid4(), 1)],))
            )
            threads[-1].start()
            eventually(
                lambda n=len(threads): committer.queued + len(writes) >= n,
                "the submit queued or written",
                interval=0.001,
            )
        return threads

    opened.set()
    alone = submit_all(1)  # no concurrency seen yet: written at once
    alone[0].join(10)
    assert writes == [1]
    opened.clear()
    first = submit_all(3)  # one waits at the database, two queue behind it
    opened.set()
    for t in first:
        t.join(10)
    assert writes == [1, 1, 2]
    # Concurrency seen: a fresh leader waits up to the window, and a peer joins its group.
    later = submit_all(2)
    for t in later:
        t.join(10)
    assert writes == [1, 1, 2, 2]
