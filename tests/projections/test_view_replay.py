"""A page applied twice leaves every view as applying it once did: views are idempotent
upserts keyed by id and version, so a replay after a crash can never double-count."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from infrastructure.views_db import create_views_engine
from projections.base import new_metadata, write_transaction
from projections.registry import all_projections
from tests.builders import NOW, make_world


@pytest.mark.parametrize("projection", all_projections(), ids=lambda p: p.name)
def test_replaying_a_page_changes_nothing(projection, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = make_world()
    listing_id = world.active_listing(quantity=2)
    request_id = world.active_listing(booking_mode="request")
    for n in range(3):
        day = f"2026-07-{10 + 3 * n:02d}"
        end = f"2026-07-{12 + 3 * n:02d}"
        booking_id, _ = world.bookings.place(
            world.renter, listing_id, start=day, end=end, quantity=1, guests=1, at=NOW
        )
        if n == 1:
            world.bookings.cancel(world.renter, booking_id, "changed plans", NOW)
    world.bookings.place(
        world.renter, request_id, start="2026-07-01", end="2026-07-03", quantity=1, guests=1, at=NOW
    )
    store = world.store
    topics = set(projection.topics)
    page = [
        (store.mapper.to_domain_event(n), n.id)
        for n in store.recorder.select_notifications(1, 10_000)
        if not topics or n.topic in topics
    ]
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    try:
        metadata = new_metadata()
        tables = projection.define_tables(metadata, "")
        with write_transaction(engine) as conn:
            metadata.create_all(conn)

        def snapshot() -> dict[str, list[tuple[object, ...]]]:
            with engine.connect() as conn:
                return {
                    name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
                    for name, t in tables.items()
                }

        with write_transaction(engine) as conn:
            projection.process_page(conn, tables, page)
        once = snapshot()
        with write_transaction(engine) as conn:
            projection.process_page(conn, tables, page)
        assert snapshot() == once
    finally:
        engine.dispose()
