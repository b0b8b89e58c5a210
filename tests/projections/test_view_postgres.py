"""Every view on the real thing: PostgreSQL event store and PostgreSQL views."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.availability_calendar import calendar_range
from projections.bookings import list_bookings
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.projections.helpers import book_stays
from tests.properties.test_rebuild_equals_incremental import FIRST_DAY, snapshot

pytestmark = pytest.mark.postgres


def test_all_views_on_postgres_match_their_rebuilds(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = Settings(environment="test", database_url=pg_url, data_dir=tmp_path / "var")
    store = build_event_store(settings)
    request.addfinalizer(store.close)  # its pool's connections back to the shared server
    world = make_world(store)
    engine = create_views_engine(views_url(settings))
    try:
        runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=50)
        listing_ids = [world.active_listing(quantity=3) for _ in range(12)]
        booked = book_stays(world, listing_ids, 8, quantities=(1, 2))
        runner.catch_up()
        head = world.store.current_position()
        assert head > 300

        with engine.connect() as conn:
            audit = runner.tables("audit")["audit"]
            assert conn.execute(select(func.count()).select_from(audit)).scalar() == head
            page, cursor = list_bookings(
                conn, runner.tables("bookings"), world.renter.id, "renter", limit=100
            )
            assert len(page) == booked == 96 and cursor is None
            days = calendar_range(
                conn,
                runner.tables("availability"),
                listing_ids[0],
                FIRST_DAY,
                FIRST_DAY + timedelta(days=16),
            )
            assert sum(d["held"] for d in days) > 0

        incremental = snapshot(runner, engine)
        for projection in all_projections():
            runner.rebuild(projection.name)
        assert snapshot(runner, engine) == incremental
        runner.rebuild_all()
        assert snapshot(runner, engine) == incremental
    finally:
        engine.dispose()
