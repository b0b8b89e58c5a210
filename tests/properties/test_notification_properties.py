"""Properties of the notifications view over any sequence of booking commands (request,
instant book, approve, decline, pay, cancel by either party, expire), caught up at random
points with a random page size:

- each (event, recipient, kind) yields at most one notification and exactly one outbox row;
- each event notifies exactly whom its rule says (counted independently here);
- a rebuild (another page size) writes the same rows as incremental processing.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import Actor, command_context
from domain.errors import DomainError
from domain.notifications import outbox_id
from infrastructure.views_db import create_views_engine
from tests.builders import NOW
from tests.notification_builders import NotifyWorld, notify_world

OPS = ("request", "instant", "approve", "decline", "confirm", "cancel_renter", "cancel_owner")
OPS += ("expire", "catch_up")
# kind -> how many notifications one such event makes (cancel: the other party only)
EXPECTED = {
    "booking_requested": 1,
    "booking_approved": 1,
    "booking_declined": 1,
    "booking_confirmed": 2,
    "booking_cancelled": 1,
    "booking_expired": 2,
}

steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 3)), min_size=1, max_size=15)


def apply(nw: NotifyWorld, op: str, pick: int, bookings: list[Any], minute: int) -> str | None:
    """Runs one command; returns the kind it should notify of, None when refused."""
    w, at = nw.world, NOW + timedelta(minutes=minute)
    if op == "catch_up":
        nw.runner.catch_up()
        return None
    if op in ("request", "instant"):
        day = (NOW + timedelta(days=10 + 3 * len(bookings))).date()
        start, end = day.isoformat(), (day + timedelta(days=2)).isoformat()
        listing = w.active_listing(booking_mode="request") if op == "request" else listing_of(nw)
        booking_id, _ = w.bookings.place(
            nw.renter, listing, start=start, end=end, quantity=1, guests=1, at=at
        )
        bookings.append(booking_id)
        return "booking_requested" if op == "request" else None
    if not bookings:
        return None
    booking_id = bookings[pick % len(bookings)]
    try:
        with command_context(Actor.system()):
            if op == "approve":
                recorded = w.bookings.approve(nw.owner, booking_id, at)
            elif op == "decline":
                recorded = w.bookings.decline(nw.owner, booking_id, "no", at)
            elif op == "confirm":
                nw.confirm(booking_id, at)
                recorded = 1
            elif op.startswith("cancel"):
                who = nw.renter if op == "cancel_renter" else nw.owner
                recorded = w.bookings.cancel(who, booking_id, "changed", at)
            else:
                recorded = w.bookings.expire(booking_id, at + timedelta(days=2))
    except DomainError:
        return None
    if not recorded:  # a no-op (expire of a booking past its hold)
        return None
    return {
        "approve": "booking_approved",
        "decline": "booking_declined",
        "confirm": "booking_confirmed",
        "expire": "booking_expired",
    }.get(op, "booking_cancelled")


# id -> (world, listing): the world is kept so that a recycled id of a collected world
# never hands an example another world's listing (that flaked as "listing not found")
_instant_listing: dict[int, tuple[NotifyWorld, Any]] = {}


def listing_of(nw: NotifyWorld) -> Any:
    cached = _instant_listing.get(id(nw))
    if cached is None or cached[0] is not nw:
        cached = _instant_listing[id(nw)] = (nw, nw.world.active_listing())
    return cached[1]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
@given(steps=steps, batch=st.integers(1, 7))
def test_each_event_and_recipient_yield_one_row_and_rebuild_equals_incremental(
    steps: list[tuple[str, int]], batch: int
) -> None:
    _instant_listing.clear()  # hold no earlier example's world
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            nw = notify_world(engine)
            nw.runner.batch_size = batch
            bookings: list[Any] = []
            expected: Counter[str] = Counter()
            for minute, (op, pick) in enumerate(steps):
                kind = apply(nw, op, pick, bookings, minute)
                if kind is not None:
                    expected[kind] += EXPECTED[kind]
            rows, outbox = nw.rows(), nw.rows("outbox")

            ids = [r["id"] for r in rows]
            assert len(ids) == len(set(ids))
            keys = [(r["position"], r["recipient_id"], r["kind"]) for r in rows]
            assert len(keys) == len(set(keys))
            assert sorted(o["id"] for o in outbox) == sorted(outbox_id(i) for i in ids)
            booking_kinds = Counter(r["kind"] for r in rows if r["kind"] in EXPECTED)
            assert booking_kinds == +expected

            nw.runner.rebuild_batch_size = 5000
            nw.runner.rebuild("notifications")
            assert (nw.rows(), nw.rows("outbox")) == (rows, outbox)
        finally:
            engine.dispose()
