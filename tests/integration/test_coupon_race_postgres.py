"""Coupon limits under real concurrency on PostgreSQL: N+k renters race to book with a
limit-N coupon → exactly N redemptions, k `coupon_exhausted`; one renter racing several
bookings with a once-per-user coupon → exactly one. Each renter books its own listing, so the
only stream they share is the coupon's: its version is what refuses the extra redemptions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from application.context import Actor
from domain.coupon import Coupon, coupon_id_for
from domain.coupon_terms import CouponTerms
from domain.errors import RuleViolation
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import NOW, World, make_world

pytestmark = pytest.mark.postgres
REPLAY_POOL = {"postgres_pool_size": 1, "postgres_max_overflow": 2}
LIMIT, EXTRA = 10, 8


def _race(count: int, book: Callable[[int], uuid.UUID]) -> list[Any]:
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = book(i)
        except Exception as e:  # kept: anything but the expected refusal fails the test
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _coupon(world: World, code: str, **limits: Any) -> None:
    terms = CouponTerms(kind="percent", percent_bp=1000, funded_by="platform", **limits)
    world.store.record(Coupon.create(code, terms, world.admin.id, "admin", NOW))


def _booker(world: World, listings: list[uuid.UUID], code: str, renter: Actor | None = None):  # type: ignore[no-untyped-def]
    def book(i: int) -> uuid.UUID:
        return world.bookings.place(
            renter or Actor(uuid.uuid4(), "user"),
            listings[i],
            start="2026-07-01",
            end="2026-07-03",
            quantity=1,
            guests=1,
            at=NOW,
            coupon_code=code,
        )[0]

    return book


@pytest.fixture
def pg_world(pg_url: str, tmp_path: Path) -> Any:
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path, postgres_pool_size=30
    )
    store = build_event_store(settings)
    yield make_world(store), settings
    store.close()


def test_n_plus_k_racing_bookings_redeem_a_limit_n_coupon_exactly_n_times(pg_world: Any) -> None:
    world, settings = pg_world
    listings = [world.active_listing() for _ in range(LIMIT + EXTRA)]
    _coupon(world, "RACE-N", max_redemptions=LIMIT)

    outcomes = _race(LIMIT + EXTRA, _booker(world, listings, "race-n"))

    booked = [o for o in outcomes if isinstance(o, uuid.UUID)]
    refused = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert len(booked) == LIMIT, [o for o in outcomes if not isinstance(o, uuid.UUID)][:3]
    assert len(refused) == EXTRA and {e.code for e in refused} == {"coupon_exhausted"}
    # A fresh store, from the database alone, agrees: N redemptions, each a booking's.
    # The replay reads from one thread: a small pool, so the shared server's connections
    # go to the racers (psycopg opens the whole pool up front).
    fresh = build_event_store(settings.model_copy(update=REPLAY_POOL))
    coupon = fresh.repository.get(coupon_id_for("RACE-N"))
    assert coupon.redeemed == LIMIT
    assert set(coupon.redemptions) == {str(b) for b in booked}
    for booking_id in booked:
        assert fresh.repository.get(booking_id).quote["coupon_code"] == "RACE-N"
    fresh.close()


def test_one_renter_racing_several_bookings_redeems_a_once_per_user_coupon_once(
    pg_world: Any,
) -> None:
    world, _ = pg_world
    listings = [world.active_listing() for _ in range(6)]
    _coupon(world, "ONCE-EACH", per_user_limit=1)
    renter = Actor(uuid.uuid4(), "user")

    outcomes = _race(6, _booker(world, listings, "ONCE-EACH", renter))

    assert len([o for o in outcomes if isinstance(o, uuid.UUID)]) == 1, outcomes
    refused = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert len(refused) == 5 and {e.code for e in refused} == {"coupon_user_limit"}
    assert world.store.repository.get(coupon_id_for("once-each")).redeemed == 1
