"""Snapshots across an upcast: a stream and snapshots recorded by an older class version load
through today's class (its `upcast_v1_v2` on the snapshot state and on each old event) to the
same state as the full replay of the upcast events, before and after new events and a new
snapshot are recorded under the new version. The store is configured like `EventStore`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from eventsourcing import utils
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from application.store import EventStore


class MeterV1(Aggregate):
    """As an older release recorded it: readings without a unit."""

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0

    @event("Read")
    def read(self, amount: int) -> None:
        self.total += amount


class MeterV2(Aggregate):
    """Today's class: every reading carries its unit (old ones were kWh); the meter keeps
    the last one."""

    class_version = 2

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0
        self.unit = "kWh"

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:  # a v1 snapshot's state
        state["unit"] = "kWh"

    @event("Read")
    def read(self, amount: int, unit: str) -> None:
        self.total += amount
        self.unit = unit


def _upcast_read(state: dict[str, Any]) -> None:
    state["unit"] = "kWh"


MeterV2.Read.class_version = 2  # type: ignore[attr-defined]
MeterV2.Read.upcast_v1_v2 = staticmethod(_upcast_read)  # type: ignore[attr-defined]


class Store(EventStore):
    name = EventStore.name
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {MeterV1: 5, MeterV2: 5}


@pytest.fixture
def restored_topics() -> Iterator[None]:
    saved = dict(utils._topic_cache)
    yield
    utils._topic_cache.clear()
    utils._topic_cache.update(saved)


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replayed(store: EventStore, aggregate_id: Any) -> Aggregate:
    aggregate = None
    for e in store.events.get(aggregate_id):
        aggregate = e.mutate(aggregate)
    assert aggregate is not None
    return aggregate


def test_snapshot_and_tail_equal_the_replay_across_a_class_upcast(restored_topics: None) -> None:
    store = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    old = MeterV1("hall")
    for amount in range(1, 12):  # versions 2..12: snapshots at 5 and 10 under v1
        old.read(amount)
        store.record(old)
    assert store.snapshots is not None
    assert [s.originator_version for s in store.snapshots.get(old.id)] == [5, 10]

    # A new release: the old topics now resolve to today's class.
    for suffix in ("", ".Opened", ".Read"):
        utils._topic_cache[get_topic(MeterV1) + suffix] = utils.resolve_topic(
            get_topic(MeterV2) + suffix
        )

    meter = store.repository.get(old.id)  # v1 snapshot at 10 upcast, then v1 events 11, 12
    assert isinstance(meter, MeterV2)
    assert state(meter) == state(replayed(store, old.id))
    assert meter.total == sum(range(1, 12))
    assert meter.unit == "kWh"

    for amount in (5, 6, 7, 8):  # versions 13..16: a v2 snapshot at 15
        meter.read(amount, "MWh" if amount < 8 else "Wh")
        store.record(meter)
    assert [s.originator_version for s in store.snapshots.get(old.id)] == [5, 10, 15]
    again = store.repository.get(old.id)
    assert state(again) == state(replayed(store, old.id))
    assert (again.total, again.unit) == (sum(range(1, 12)) + 26, "Wh")
    assert store.repository.get(old.id, version=15).unit == "MWh"  # from the v2 snapshot
