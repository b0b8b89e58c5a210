"""For random order histories (baskets placed or refused, items approved, expired or
cancelled one by one, whole orders cancelled), the orders view built incrementally in small
pages equals the view rebuilt from scratch, and every order's status in the view is the one
its item bookings give it."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.orders import OrderItem, Orders
from domain.errors import DomainError
from domain.order import order_status
from infrastructure.views_db import create_views_engine
from projections.orders import OrdersView
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

FIRST_DAY = date(2026, 6, 10)
item_st = st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(1, 2))
commands = st.one_of(
    st.tuples(st.just("order"), st.lists(item_st, min_size=1, max_size=3)),
    st.tuples(st.just("approve"), st.integers(0, 20)),
    st.tuples(st.just("cancel_item"), st.integers(0, 20)),
    st.tuples(st.just("expire_item"), st.integers(0, 20)),
    st.tuples(st.just("cancel_order"), st.integers(0, 20)),
)


def day(n: int) -> str:
    return (FIRST_DAY + timedelta(days=n)).isoformat()


def snapshot(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            logical: sorted(repr(tuple(r)) for r in conn.execute(select(table)).all())
            for logical, table in runner.tables("orders").items()
        }


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=12))
def test_the_orders_view_rebuilds_to_what_it_was_and_follows_its_items(
    steps: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(steps, engine)
        finally:
            engine.dispose()


def check(steps: list[tuple[Any, ...]], engine: Engine) -> None:
    w = make_world()
    orders = Orders(w.store, w.bookings)
    runner = ProjectionRunner(w.store, engine, [OrdersView()], batch_size=2)
    listings = [
        w.active_listing(quantity=2),
        w.active_listing(booking_mode="request"),
        w.active_listing(quantity=3),
    ]
    placed: list[uuid.UUID] = []
    for name, arg in steps:
        with contextlib.suppress(DomainError):  # refused commands are part of the story
            if name == "order":
                items = [OrderItem(listings[n], day(s), day(s + k)) for n, s, k in arg]
                placed.append(orders.place(w.renter, items, at=NOW)[0])
            elif placed:
                order = orders.get(placed[arg % len(placed)])
                booking_id = order.booking_ids[arg % len(order.booking_ids)]
                if name == "approve":
                    w.bookings.approve(w.owner, booking_id, NOW)
                elif name == "cancel_item":
                    w.bookings.cancel(w.renter, booking_id, "not this one", NOW)
                elif name == "expire_item":
                    w.bookings.expire(booking_id, NOW + timedelta(hours=25))
                else:
                    orders.cancel(w.renter, order.id, "plans changed", NOW)
        runner.catch_up()

    incremental = snapshot(runner, engine)
    runner.rebuild("orders")
    assert snapshot(runner, engine) == incremental
    table = runner.tables("orders")["orders"]
    with engine.connect() as conn:
        rows = {r.id: r.status for r in conn.execute(select(table.c.id, table.c.status))}
    assert set(rows) == set(placed)
    for order_id in placed:
        statuses = [w.bookings.get(b).status for b in orders.get(order_id).booking_ids]
        assert rows[order_id] == order_status(statuses)
