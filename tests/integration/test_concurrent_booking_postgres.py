"""50 renters race for one unit on real PostgreSQL: one winner per round, no overlaps —
neither in the event store replayed from scratch nor in the read views."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from application.context import Actor
from domain.booking import Booking
from domain.calendar import ListingCalendar
from domain.errors import UnavailableError
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

pytestmark = pytest.mark.postgres
REPLAY_POOL = {"postgres_pool_size": 1, "postgres_max_overflow": 2}
THREADS, ROUNDS = 50, 20


def _race(world, listing_id: uuid.UUID, first_night: date) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def renter(i: int) -> None:
        start = first_night + timedelta(days=i % 3)
        barrier.wait()
        try:
            outcomes[i] = world.bookings.place(
                Actor(uuid.uuid4(), "user"),
                listing_id,
                start=start.isoformat(),
                end=(start + timedelta(days=3)).isoformat(),
                quantity=1,
                guests=1,
                at=NOW,
            )[0]
        except UnavailableError as e:
            outcomes[i] = e
        except Exception as e:  # anything else is a failure of the claim
            outcomes[i] = e

    threads = [threading.Thread(target=renter, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_fifty_racing_renters_get_exactly_one_booking_per_round(pg_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path, postgres_pool_size=20
    )
    store = build_event_store(settings)
    world = make_world(store)
    listing_id = world.active_listing()

    for r in range(ROUNDS):
        outcomes = _race(world, listing_id, date(2026, 7, 1) + timedelta(days=10 * r))
        winners = [o for o in outcomes if isinstance(o, uuid.UUID)]
        losers = [o for o in outcomes if isinstance(o, UnavailableError)]
        assert len(winners) == 1, [o for o in outcomes if not isinstance(o, uuid.UUID)][:3]
        assert len(losers) == THREADS - 1

    # A fresh store replays every stream from the database alone.
    # The replay reads from one thread: a small pool, so the shared server's connections
    # go to the racers (psycopg opens the whole pool up front).
    fresh = build_event_store(settings.model_copy(update=REPLAY_POOL))
    calendar: ListingCalendar = fresh.repository.get(ListingCalendar.create_id(listing_id))
    nights: dict[int, int] = {}
    for alloc in calendar.allocations.values():
        for key in alloc["keys"]:
            nights[key] = nights.get(key, 0) + alloc["quantity"]
    assert len(calendar.allocations) == ROUNDS
    assert max(nights.values()) == 1

    booking_ids = {
        n.originator_id
        for n in fresh.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith("Booking.Placed")
    }
    assert len(booking_ids) == ROUNDS
    periods = sorted(
        (b.start, b.end)
        for b in (fresh.repository.get(i) for i in booking_ids)
        if isinstance(b, Booking)
    )
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(periods))

    # The views, built from the same log, agree.
    engine = create_views_engine(views_url(settings))
    runner = ProjectionRunner(fresh, engine, all_projections())
    runner.catch_up()
    bookings = runner.tables("bookings")["bookings"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(bookings.c.start, bookings.c.end)).all()
    assert len(rows) == ROUNDS
    view_periods = sorted((str(r.start), str(r.end)) for r in rows)
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(view_periods))
    engine.dispose()
    fresh.close()
    store.close()
