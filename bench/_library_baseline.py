"""Benchmark (a) of `booking_write.py`: the eventsourcing library on its own, on the same
database, same pool and same recorder as the application, in its own events table."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar
from uuid import UUID

from _common import run_threads, summary
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from infrastructure.eventstore import event_store_env
from infrastructure.settings import Settings


class Counter_(Aggregate):
    """A long-lived aggregate changed by every operation (stands in for the calendar)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.n = 0

    @event("Bumped")
    def bump(self, payload: dict[str, Any]) -> None:
        self.n += 1
        self.last = payload


class Item(Aggregate):
    """A new aggregate per operation (stands in for the booking)."""

    def __init__(self, ref: UUID, payload: dict[str, Any]) -> None:
        self.ref = ref
        self.payload = payload


class Baseline(Application[UUID]):
    name = "BenchBaseline"  # its own table: benchbaseline_events
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Counter_: 50}


def _payload(size: int) -> dict[str, Any]:
    """A JSON-ish dict of roughly `size` bytes, shaped like our events (strings, ints)."""
    fields = max(1, size // 40)
    return {f"field_{i:02d}": f"value-{i:04d}-{'x' * 16}" for i in range(fields)}


def bench_library(
    settings: Settings, *, threads: int, ops: int, aggregates: int, payload_bytes: dict[str, int]
) -> dict[str, Any]:
    env = event_store_env(settings)
    app = Baseline(env=env)
    small, big = _payload(payload_bytes["calendar"]), _payload(payload_bytes["booking"])
    counters = [Counter_(small) for _ in range(aggregates)]
    others = [Counter_(small) for _ in range(aggregates)]
    for chunk in range(0, aggregates, 200):
        app.save(*counters[chunk : chunk + 200], *others[chunk : chunk + 200])
    cids = [c.id for c in counters]
    oids = [o.id for o in others]
    conflicts = Counter[str]()

    def single(i: int) -> None:  # load + one event + save
        while True:
            agg: Counter_ = app.repository.get(cids[i % aggregates])
            agg.bump(small)
            try:
                app.save(agg)
                return
            except IntegrityError:
                conflicts["single"] += 1

    def shape(i: int) -> None:  # what a placement does to the store, without the domain
        while True:
            agg: Counter_ = app.repository.get(cids[i % aggregates])
            app.repository.get(oids[i % aggregates])
            item = Item(agg.id, big)
            agg.bump(small)
            try:
                app.save(agg, item)
                return
            except IntegrityError:
                conflicts["shape"] += 1

    run_threads(threads, min(200, ops), single)  # warm-up: pool, caches, JIT of psycopg
    single_run = run_threads(threads, ops, single)
    shape_run = run_threads(threads, ops, shape)
    app.close()
    errs_single = sum(single_run["errors"].values())
    errs_shape = sum(shape_run["errors"].values())
    return {
        "load_append_save": summary(
            single_run["latencies"],
            single_run["seconds"],
            errs_single,
            threads=threads,
            conflicts_retried=conflicts["single"],
            error_kinds=single_run["errors"],
        ),
        "placement_shape": summary(
            shape_run["latencies"],
            shape_run["seconds"],
            errs_shape,
            threads=threads,
            conflicts_retried=conflicts["shape"],
            what="get x2, one event on an existing aggregate + one new aggregate, one save",
            error_kinds=shape_run["errors"],
        ),
    }
