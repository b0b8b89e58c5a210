"""50 renters (threads) order overlapping baskets over shared stock on real PostgreSQL: no
unit is oversold on any night, and every order is fully held (the order and every item
booking and hold exist) or fully refused (none of them exist) — read back by a fresh store
from the database alone, and in the orders view built from the same log."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from application.context import Actor
from application.orders import OrderItem, Orders
from domain.booking import Booking
from domain.calendar import ListingCalendar
from domain.errors import ConflictError
from domain.order import Order
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

pytestmark = pytest.mark.postgres
THREADS = 50
UNITS = (2, 3, 1, 2)
FIRST = NOW.date() + timedelta(days=10)


def _basket(rng: random.Random, listings: list[uuid.UUID]) -> list[OrderItem]:
    items = []
    for n in rng.sample(range(len(listings)), rng.randint(2, 3)):
        start = FIRST + timedelta(days=rng.randint(0, 3))
        items.append(
            OrderItem(
                listings[n],
                start.isoformat(),
                (start + timedelta(days=rng.randint(1, 3))).isoformat(),
                quantity=rng.randint(1, UNITS[n]),
            )
        )
    return items


def test_fifty_racing_baskets_never_oversell_and_are_all_or_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path, postgres_pool_size=20
    )
    store = build_event_store(settings)
    world = make_world(store)
    orders = Orders(store, world.bookings)
    listings = [world.active_listing(quantity=u) for u in UNITS]
    rng = random.Random(13)
    baskets = [_basket(rng, listings) for _ in range(THREADS)]
    order_ids = [uuid.uuid4() for _ in range(THREADS)]
    outcomes: list[object] = [None] * THREADS
    barrier = threading.Barrier(THREADS)

    def renter(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = orders.place(
                Actor(uuid.uuid4(), "user"), baskets[i], at=NOW, order_id=order_ids[i]
            )[0]
        except ConflictError as e:  # `unavailable` (or `contention`): refused as a whole
            outcomes[i] = e
        except Exception as e:  # anything else fails the claim below
            outcomes[i] = e

    threads = [threading.Thread(target=renter, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    unexpected = [o for o in outcomes if not isinstance(o, uuid.UUID | ConflictError)]
    assert not unexpected, unexpected[:3]
    won = {order_ids[i] for i, o in enumerate(outcomes) if isinstance(o, uuid.UUID)}
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert won and refused, (len(won), len(refused))
    assert all(o.code == "unavailable" for o in refused), {o.code for o in refused}

    # Reads the database alone, from one thread: a small pool, beside the racers' twenty.
    fresh = build_event_store(
        settings.model_copy(update={"postgres_pool_size": 1, "postgres_max_overflow": 2})
    )
    held_by: dict[uuid.UUID, set[str]] = {}
    for n, listing_id in enumerate(listings):
        calendar = fresh.repository.get(ListingCalendar.create_id(listing_id))
        nights: dict[int, int] = {}
        for booking_id, alloc in calendar.allocations.items():
            held_by.setdefault(listing_id, set()).add(booking_id)
            for key in alloc["keys"]:
                nights[key] = nights.get(key, 0) + alloc["quantity"]
        assert max(nights.values(), default=0) <= UNITS[n], (n, nights)

    for i, order_id in enumerate(order_ids):
        item_ids = [uuid.uuid5(order_id, f"item:{k}") for k in range(len(baskets[i]))]
        if order_id in won:
            order = fresh.repository.get(order_id)
            assert isinstance(order, Order) and order.booking_ids == item_ids
            for item, booking_id in zip(baskets[i], item_ids, strict=True):
                booking = fresh.repository.get(booking_id)
                assert isinstance(booking, Booking) and booking.order_id == order_id
                assert str(booking_id) in held_by[item.listing_id]
        else:
            assert order_id not in fresh.repository
            assert not any(booking_id in fresh.repository for booking_id in item_ids)

    engine = create_views_engine(views_url(settings))
    runner = ProjectionRunner(fresh, engine, all_projections())
    runner.catch_up()
    tables = runner.tables("orders")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables["orders"].c.id, tables["orders"].c.status)).all()
        items = conn.execute(sa.select(sa.func.count()).select_from(tables["order_items"]))
        item_count = items.scalar_one()
    assert {r.id for r in rows} == won and {r.status for r in rows} == {"pending_payment"}
    assert item_count == sum(len(baskets[order_ids.index(o)]) for o in won)
    engine.dispose()
    fresh.close()
    store.close()
