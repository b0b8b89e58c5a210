"""Orders racing for a limit-N coupon on real PostgreSQL: more concurrent two-item orders
than the coupon allows → exactly N orders placed, each redeeming once; every other order is
refused whole (`coupon_exhausted`) and holds nothing — no order, no item booking, no unit
held — read back by a fresh store from the database alone. Each renter orders its own two
listings, so the only stream the orders share is the coupon's."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from application.context import Actor
from application.orders import OrderItem, Orders
from domain.coupon import Coupon, coupon_id_for
from domain.coupon_terms import CouponTerms
from domain.errors import RuleViolation
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import NOW, make_world

pytestmark = pytest.mark.postgres
LIMIT, EXTRA = 5, 9


def test_more_racing_orders_than_a_limit_n_coupon_allows_redeem_exactly_n(
    pg_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path, postgres_pool_size=30
    )
    store = build_event_store(settings)
    world = make_world(store)
    orders = Orders(store, world.bookings)
    count = LIMIT + EXTRA
    baskets = [(world.active_listing(), world.active_listing()) for _ in range(count)]
    terms = CouponTerms(kind="percent", percent_bp=1000, funded_by="platform")
    limited = replace(terms, max_redemptions=LIMIT)
    store.record(Coupon.create("BASKET-N", limited, world.admin.id, "admin", NOW))
    order_ids = [uuid.uuid4() for _ in range(count)]
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(i: int) -> None:
        items = [
            OrderItem(baskets[i][0], "2026-07-01", "2026-07-03"),
            OrderItem(baskets[i][1], "2026-07-02", "2026-07-04"),
        ]
        barrier.wait()
        try:
            outcomes[i] = orders.place(
                Actor(uuid.uuid4(), "user"),
                items,
                at=NOW,
                order_id=order_ids[i],
                coupon_code="basket-n",
            )[0]
        except Exception as e:  # kept: anything but the expected refusal fails the test
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    placed = [o for o in outcomes if isinstance(o, uuid.UUID)]
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, RuleViolation)]
    assert len(placed) == LIMIT, [o for o in outcomes if not isinstance(o, uuid.UUID)][:3]
    assert len(refused) == EXTRA
    assert {outcomes[i].code for i in refused} == {"coupon_exhausted"}
    fresh = build_event_store(settings)
    try:
        coupon = fresh.repository.get(coupon_id_for("BASKET-N"))
        assert coupon.redeemed == LIMIT
        assert set(coupon.redemptions) == {str(o) for o in placed}  # one per order
        for order_id in placed:
            order = fresh.repository.get(order_id)
            assert order.quote["coupon_code"] == "BASKET-N"
            items = [fresh.repository.get(b) for b in order.booking_ids]
            parts = [bk.quote.get("coupon_discount", 0) for bk in items]
            assert sum(parts) == order.quote["coupon_discount"] > 0
        for i in refused:
            assert not fresh.exists(order_ids[i])
            for n in range(2):
                assert not fresh.exists(uuid.uuid5(order_ids[i], f"item:{n}"))
            for listing_id in baskets[i]:
                calendar = world.bookings.calendar(listing_id)
                assert not calendar.allocations, (
                    calendar.allocations
                )  # a refused order holds nothing
    finally:
        fresh.close()
        store.close()
