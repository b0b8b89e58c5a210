"""Orders are all or nothing, whatever baskets arrive in whatever order and whichever orders
are cancelled in between: against a model of the stock, an order is placed exactly when every
item fits (items of one listing counted together), a refused order names exactly the items
that do not fit and holds nothing, and the calendars always hold what the model holds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from application.context import Actor
from application.orders import OrderItem, Orders
from domain.calendar import ListingCalendar
from domain.order import Order, OrderItemError, OrderUnavailableError
from tests.builders import NOW, make_world

UNITS = (1, 2, 3)  # units of each listing
FIRST = NOW.date() + timedelta(days=10)
HORIZON = 8

items_st = st.lists(
    st.tuples(
        st.integers(0, len(UNITS) - 1),  # listing
        st.integers(0, HORIZON - 3),  # first night
        st.integers(1, 3),  # nights
        st.integers(1, 3),  # quantity (3 breaks the rules of the 1- and 2-unit listings)
    ),
    min_size=1,
    max_size=4,
)


class OrdersMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.world = make_world()
        self.service = Orders(self.world.store, self.world.bookings)
        self.listings = [self.world.active_listing(quantity=u) for u in UNITS]
        self.used: dict[tuple[int, int], int] = {}  # (listing, night) -> units held (model)
        self.placed: dict[uuid.UUID, list[tuple[int, int, int, int]]] = {}

    def _fits(
        self, basket: list[tuple[int, int, int, int]]
    ) -> tuple[int | None, list[int], dict[tuple[int, int], int]]:
        """(first rule-breaking item, items that do not fit, the stock after the order)."""
        for n, (listing, _, _, quantity) in enumerate(basket):
            if quantity > UNITS[listing]:
                return n, [], self.used
        used, missing = dict(self.used), []
        for n, (listing, start, nights, quantity) in enumerate(basket):
            keys = [(listing, d) for d in range(start, start + nights)]
            if any(used.get(k, 0) + quantity > UNITS[listing] for k in keys):
                missing.append(n)
                continue
            for k in keys:
                used[k] = used.get(k, 0) + quantity
        return None, missing, used

    @rule(target=orders, basket=items_st)
    def place(self, basket: list[tuple[int, int, int, int]]) -> uuid.UUID:
        breaking, missing, after = self._fits(basket)
        items = [
            OrderItem(
                self.listings[listing],
                (FIRST + timedelta(days=start)).isoformat(),
                (FIRST + timedelta(days=start + nights)).isoformat(),
                quantity=quantity,
            )
            for listing, start, nights, quantity in basket
        ]
        order_id = uuid.uuid4()
        renter = Actor(uuid.uuid4(), "user")
        outcome: Any
        try:
            outcome = self.service.place(renter, items, at=NOW, order_id=order_id)
        except (OrderItemError, OrderUnavailableError) as error:
            outcome = error
        if breaking is not None:
            assert isinstance(outcome, OrderItemError) and outcome.index == breaking
        elif missing:
            assert isinstance(outcome, OrderUnavailableError)
            assert [i["index"] for i in outcome.items] == missing
        else:
            assert not isinstance(outcome, Exception), outcome
            self.used = after
            self.placed[order_id] = basket
            self.renters = getattr(self, "renters", {}) | {order_id: renter}
        if isinstance(outcome, Exception):  # nothing of a refused order exists
            assert not self.world.store.exists(order_id)
            for n in range(len(basket)):
                assert not self.world.store.exists(uuid.uuid5(order_id, f"item:{n}"))
        return order_id

    @rule(order_id=orders)
    def cancel(self, order_id: uuid.UUID) -> None:
        basket = self.placed.pop(order_id, None)
        if basket is None:
            return
        self.service.cancel(self.renters[order_id], order_id, "changed plans", NOW)
        for listing, start, nights, quantity in basket:
            for d in range(start, start + nights):
                self.used[(listing, d)] -= quantity

    @invariant()
    def calendars_hold_what_the_model_holds(self) -> None:
        for n, listing_id in enumerate(self.listings):
            calendar = self.world.store.load(ListingCalendar.create_id(listing_id), "calendar")
            held: dict[int, int] = {}
            for alloc in calendar.allocations.values():
                for key in alloc["keys"]:
                    held[key] = held.get(key, 0) + alloc["quantity"]
            assert sorted(held.values()) == sorted(
                v for (listing, _), v in self.used.items() if listing == n and v
            )
            assert all(v <= UNITS[n] for v in held.values())

    @invariant()
    def every_placed_order_holds_every_item(self) -> None:
        for order_id, basket in self.placed.items():
            order = self.world.store.load(order_id, "order")
            assert isinstance(order, Order) and len(order.items) == len(basket)


TestOrdersAllOrNothing = OrdersMachine.TestCase
TestOrdersAllOrNothing.settings = settings(
    max_examples=40,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
