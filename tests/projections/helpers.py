"""A tiny aggregate and fake projections over it, for the runner's tests.

`ItemsView` is deliberately *not* idempotent (it counts the events applied to each row), so
an event applied twice or lost shows up as a wrong count. Run as a module it is the worker
that the crash tests kill with SIGKILL. `every_view` snapshots all registered views, for
tests that compare two ways of building them.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, Uuid, select

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.base import Projection, upsert
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World
from tests.properties.test_rebuild_equals_incremental import FIRST_DAY


class Item(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name

    @event("Bumped")
    def bump(self) -> None:
        pass


class Boom(RuntimeError):
    pass


class ItemsView(Projection):
    name = "items"

    def __init__(self, *, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.fail_at = fail_at
        self.delay = delay

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        items = Table(
            f"items{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("name", String(100), nullable=False, index=True),
            Column("version", Integer, nullable=False),
            Column("applied", Integer, nullable=False),
            Column("bumps", Integer, nullable=False),
        )
        return {"items": items}

    def process(
        self, conn: Connection, tables: dict[str, Table], event: object, position: int
    ) -> None:
        if position == self.fail_at:
            raise Boom(f"injected failure at {position}")
        if self.delay:
            time.sleep(self.delay)
        items = tables["items"]
        assert isinstance(event, Aggregate.Event)
        if isinstance(event, Item.Created):
            row = {"id": event.originator_id, "name": event.name, "version": 1}
            conn.execute(items.insert().values(**row, applied=1, bumps=0))
            return
        changes: dict[str, Any] = {"version": event.originator_version}
        changes["applied"] = items.c.applied + 1
        if isinstance(event, Item.Renamed):
            changes["name"] = event.name
        elif isinstance(event, Item.Bumped):
            changes["bumps"] = items.c.bumps + 1
        conn.execute(items.update().where(items.c.id == event.originator_id).values(**changes))


class RenamesView(Projection):
    """Only interested in renames: its position must still move past everything else."""

    name = "renames"
    topics = (get_topic(Item.Renamed),)

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "renames": Table(
                f"renames{suffix}",
                metadata,
                Column("position", Integer, primary_key=True),
                Column("item_id", Uuid, nullable=False, index=True),
                Column("name", String(100), nullable=False),
            )
        }

    def process(
        self, conn: Connection, tables: dict[str, Table], event: object, position: int
    ) -> None:
        assert isinstance(event, Item.Renamed)
        row = {"position": position, "item_id": event.originator_id, "name": event.name}
        conn.execute(tables["renames"].insert().values(**row))


class NamesView(Projection):
    """The fast path: one bulk, idempotent upsert per page."""

    name = "names"

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "names": Table(
                f"names{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("name", String(100), nullable=False),
                Column("version", Integer, nullable=False),
            )
        }

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        rows = []
        for e, _ in events:
            if isinstance(e, Item.Created | Item.Renamed):
                v = e.originator_version
                rows.append({"id": e.originator_id, "name": e.name, "version": v})
        upsert(conn, tables["names"], rows, newer="version")


def record_items(store: EventStore, count: int, changes: int = 2) -> list[UUID]:
    """Records `count` items with `changes` renames/bumps each; returns their ids."""
    ids = []
    for n in range(count):
        item = Item(name=f"item-{n}")
        for c in range(changes):
            item.rename(f"item-{n}-{c}") if c % 2 == 0 else item.bump()
        store.record(item)
        ids.append(item.id)
    return ids


def book_stays(
    world: World, listing_ids: Sequence[UUID], stays: int, quantities: Sequence[int] = (1,)
) -> int:
    """`stays` back-to-back two-night stays on each listing from FIRST_DAY (quantities in
    turn), every third (by listing and stay) cancelled; returns how many were placed."""
    for n, listing_id in enumerate(listing_ids):
        for k in range(stays):
            start = FIRST_DAY + timedelta(days=2 * k)
            booking_id, _ = world.bookings.place(
                world.renter,
                listing_id,
                start=start.isoformat(),
                end=(start + timedelta(days=2)).isoformat(),
                quantity=quantities[k % len(quantities)],
                guests=1,
                at=NOW,
            )
            if (n + k) % 3 == 0:
                world.bookings.cancel(world.renter, booking_id, "plans changed", NOW)
    return len(listing_ids) * stays


def every_view(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    """Every registered view's rows, sorted per table: two ways of building views compare."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for projection in all_projections():
            for logical, table in runner.tables(projection.name).items():
                rows = conn.execute(select(table)).all()
                out[f"{projection.name}.{logical}"] = sorted(repr(tuple(r)) for r in rows)
    return out


def rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table)))


@contextlib.contextmanager
def store_and_views(settings: Settings) -> Iterator[tuple[EventStore, Engine]]:
    """The event store and the views engine `settings` name, both closed afterwards."""
    store = build_event_store(settings)
    engine = create_views_engine(views_url(settings))
    try:
        yield store, engine
    finally:
        engine.dispose()
        store.close()


def _run_forever(data_dir: str, database_url: str, delay: float) -> None:
    settings = Settings(
        environment="test",
        data_dir=Path(data_dir),
        database_url=database_url or None,
        postgres_pool_size=2,
    )
    store = build_event_store(settings)
    engine = create_views_engine(views_url(settings), pool_size=2)
    runner = ProjectionRunner(store, engine, [ItemsView(delay=delay)], batch_size=50)
    runner.start()
    print("started", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    # Through the package, not __main__, so `Item` is the class its stored topics name.
    from tests.projections.helpers import _run_forever as run_forever

    run_forever(sys.argv[1], sys.argv[2], float(sys.argv[3]))
