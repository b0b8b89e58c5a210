"""The index syncer: search documents view → SearchIndex, tracked only after success."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from application.search import SearchIndexError
from application.search_sync import EPOCH_ORDINAL, IndexSyncer, document_for
from domain.search_documents import Horizon, SyncState
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from projections.search_documents import SearchDocumentsView, ViewSearchDocuments
from tests.builders import NOW, World, listing_spec, make_world
from tests.fakes import FakeClock
from tests.polling import eventually
from tests.search_memory import MemorySearchIndex

TODAY = NOW.date()


@dataclass
class Rig:
    world: World
    runner: ProjectionRunner
    source: ViewSearchDocuments
    index: MemorySearchIndex
    syncer: IndexSyncer

    def sync(self, today: date = TODAY) -> int:
        self.runner.catch_up()
        return self.syncer.sync_once(today)

    def expected(self, today: date = TODAY) -> dict[str, dict[str, Any]]:
        """What the index should hold: every active row's document."""
        self.runner.catch_up()
        docs: dict[str, dict[str, Any]] = {}
        after = None
        while rows := self.source.all_rows(after, 50, Horizon.starting(today)):
            docs.update({str(r["id"]): document_for(r, today) for r in rows if not r["deleted"]})
            after = rows[-1]["id"]
        return docs

    def place(self, listing_id: UUID, start: str, end: str) -> UUID:
        booking_id, _ = self.world.bookings.place(
            self.world.renter, listing_id, start=start, end=end, quantity=1, guests=1, at=NOW
        )
        return booking_id


def build_rig(engine: Engine, *, batch_size: int = 3) -> Rig:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [SearchDocumentsView()], batch_size=5)
    source = ViewSearchDocuments(engine, runner.tables("search_documents"))
    index = MemorySearchIndex()
    return Rig(world, runner, source, index, IndexSyncer(source, index, batch_size=batch_size))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def rig(engine: Engine) -> Rig:
    return build_rig(engine)


def night(iso: str) -> int:
    return date.fromisoformat(iso).toordinal() - EPOCH_ORDINAL


def test_active_listings_reach_the_index_and_drafts_do_not(rig: Rig) -> None:
    w = rig.world
    listing_ids = [w.active_listing(title=f"Place {n}") for n in range(4)]
    w.listings.create(w.owner, listing_spec(title="Draft"), NOW)
    rig.place(listing_ids[0], "2026-06-10", "2026-06-11")

    rig.sync()

    assert rig.index.documents == rig.expected()
    assert set(rig.index.documents) == {str(i) for i in listing_ids}
    assert rig.index.documents[str(listing_ids[0])]["blocked_nights"] == [-1, night("2026-06-10")]
    assert rig.syncer.state().position == rig.source.head()
    assert rig.sync() == 0  # nothing new


def test_a_failed_write_leaves_tracking_put_and_the_retry_loses_nothing(rig: Rig) -> None:
    w = rig.world
    first = w.active_listing()
    rig.sync()
    tracked = rig.syncer.state().position
    second = w.active_listing()
    rig.place(first, "2026-06-10", "2026-06-11")

    rig.index.fail_next()
    with pytest.raises(SearchIndexError):
        rig.sync()
    assert rig.syncer.state().position == tracked
    assert str(second) not in rig.index.documents

    rig.sync()
    assert rig.index.documents == rig.expected()


def test_a_lost_acknowledgement_is_replayed_harmlessly(rig: Rig) -> None:
    w = rig.world
    listing_ids = [w.active_listing() for _ in range(3)]
    w.listings.deactivate(w.owner, listing_ids[1], NOW)

    rig.index.fail_next(after_applying=True)
    with pytest.raises(SearchIndexError):
        rig.sync()
    rig.sync()
    assert rig.index.documents == rig.expected()

    # Replaying everything from the start converges to the same index.
    state = rig.syncer.state()
    rig.source.save_state(rig.syncer.name, SyncState(0, state.generation, state.horizon_day))
    assert rig.sync() > 0
    assert rig.index.documents == rig.expected()


def test_deactivation_removes_the_document_and_reactivation_restores_it(rig: Rig) -> None:
    w = rig.world
    listing_id = w.active_listing()
    rig.sync()
    w.listings.deactivate(w.owner, listing_id, NOW)
    rig.sync()
    assert rig.index.get(str(listing_id)) is None

    w.listings.activate(w.owner, listing_id, NOW)
    rig.sync()
    assert rig.index.get(str(listing_id)) == rig.expected()[str(listing_id)]


def test_an_older_document_never_overwrites_a_newer_one(rig: Rig) -> None:
    w = rig.world
    listing_id = w.active_listing()
    rig.sync()
    old = rig.index.get(str(listing_id))
    rig.place(listing_id, "2026-06-10", "2026-06-11")  # a calendar-only change
    rig.sync()
    new = rig.index.get(str(listing_id))
    assert old is not None and new is not None and new["version"] > old["version"]

    rig.index.upsert([old])  # delivered late, out of order
    assert rig.index.get(str(listing_id)) == new

    w.listings.deactivate(w.owner, listing_id, NOW)
    rig.sync()
    rig.index.upsert([new])  # a late upsert cannot resurrect a deleted listing
    assert rig.index.get(str(listing_id)) is None


def test_rolling_the_horizon_drops_past_nights_and_adds_new_ones(rig: Rig) -> None:
    w = rig.world
    listing_id = w.active_listing()
    rig.place(listing_id, "2026-06-10", "2026-06-11")
    w.listings.add_block(w.owner, listing_id, "2027-05-30", "2027-05-31", "x", NOW)
    rig.sync(date(2026, 5, 1))
    assert rig.index.documents[str(listing_id)]["blocked_nights"] == [-1, night("2026-06-10")]

    later = date(2026, 6, 15)
    assert rig.syncer.roll_horizon(later) == 1
    assert rig.index.documents[str(listing_id)]["blocked_nights"] == [-1, night("2027-05-30")]
    assert rig.syncer.state().horizon_day == later


def test_rebuild_equals_incremental(engine: Engine) -> None:
    rig = build_rig(engine, batch_size=2)
    w = rig.world
    ids = [w.active_listing(quantity=1 + n % 2) for n in range(5)]
    for n, listing_id in enumerate(ids):
        rig.place(listing_id, "2026-06-10", "2026-06-12")
        rig.sync()
        if n % 2:
            w.listings.deactivate(w.owner, listing_id, NOW)
        rig.sync()
    incremental = dict(rig.index.documents)

    assert rig.syncer.rebuild(TODAY) == 3
    tail = rig.index.calls[len(rig.index.calls) - rig.index.calls[::-1].index("settings") - 1 :]
    assert tail[:2] == ["settings", "clear"] and set(tail[2:]) == {"upsert"}
    assert rig.index.documents == incremental == rig.expected()


def test_a_new_view_generation_re_pushes_everything(rig: Rig) -> None:
    w = rig.world
    listing_id = w.active_listing()
    rig.sync()
    rig.index.clear()  # as if the documents had been built by an older shape
    state = rig.syncer.state()
    rig.source.save_state(rig.syncer.name, SyncState(state.position, "search_documents:v0"))

    rig.sync()

    assert set(rig.index.documents) == {str(listing_id)}
    assert rig.syncer.state().generation == rig.syncer.generation


def test_run_forever_applies_settings_once_syncs_and_rolls_each_day(rig: Rig) -> None:
    w = rig.world
    listing_id = w.active_listing()
    rig.place(listing_id, "2026-06-10", "2026-06-11")
    rig.runner.catch_up()
    clock = FakeClock(datetime(2026, 6, 9, 12, tzinfo=UTC))
    stop = threading.Event()
    rig.index.fail_next()  # the first attempt fails: the loop backs off and carries on
    thread = threading.Thread(target=rig.syncer.run_forever, args=(clock, stop, 0.005))
    thread.start()
    try:
        eventually(
            lambda: str(listing_id) in rig.index.documents, "the listing indexed", interval=0.01
        )
        assert rig.index.documents[str(listing_id)]["blocked_nights"] == [-1, night("2026-06-10")]
        clock.advance(timedelta(days=2))  # the night of the 10th is now in the past
        eventually(
            lambda: rig.syncer.state().horizon_day == date(2026, 6, 11),
            "the horizon moved to 11 June",
            interval=0.01,
        )
        eventually(
            lambda: rig.index.documents[str(listing_id)]["blocked_nights"] == [-1],
            "the past night dropped",
            interval=0.01,
        )
    finally:
        stop.set()
        thread.join(5)
    assert rig.index.settings_applied == 1


def test_rebuild_on_a_fresh_embedded_index_applies_settings_before_clearing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from application.search_sync import IndexSyncer
    from infrastructure.search_sqlite import SqliteSearchIndex
    from infrastructure.views_db import create_views_engine
    from projections.search_documents import ViewSearchDocuments

    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    try:
        from projections.base import ViewTables, write_transaction
        from projections.search_documents import SearchDocumentsView

        tables = ViewTables(SearchDocumentsView())
        with write_transaction(engine) as conn:
            next(iter(tables.values())).metadata.create_all(conn)
        syncer = IndexSyncer(ViewSearchDocuments(engine, tables), SqliteSearchIndex(engine))
        assert syncer.rebuild(date(2026, 6, 1)) == 0
    finally:
        engine.dispose()
