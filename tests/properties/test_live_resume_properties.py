"""Properties of live updates, through the real log tail, hub and stream writer (no HTTP):

- resume: whatever the writes and wherever the client disconnects, the events it received
  over all its connections (each reconnect sending the last id it saw) are exactly the
  channel's events in the log, in order: no gap, no duplicate;
- a booking event's `status` is the booking's status after that event;
- a queue never holds more than its bound: a subscriber that would overflow is dropped,
  and one that is not dropped got every page of its channel, in order.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interfaces.sse.hub import LiveHub
from interfaces.sse.stream import EventStream
from projections.live_origins import Origins
from projections.live_routes import (
    AVAILABILITY,
    BOOKING,
    AvailabilityRoute,
    BookingRoute,
    Delivery,
    Router,
)
from projections.live_tailer import LiveTailer
from tests.builders import NOW, World, make_world

ID = re.compile(rb"^id: (\d+)\nevent: (\w+)\ndata: (.*)$", re.M)


@contextmanager
def tailing(world: World) -> Iterator[LiveTailer]:
    origins = Origins(world.store)
    router = Router([BookingRoute(origins), AvailabilityRoute(origins)], origins)
    tailer = LiveTailer(world.store, router, poll_interval=0.05)
    world.store.add_listener(tailer.wake)
    try:
        yield tailer
    finally:
        world.store.remove_listener(tailer.wake)
        tailer.stop()


class Client:
    """One client of one channel, across connections: what it received, in order."""

    def __init__(self, hub: LiveHub, channel: Any) -> None:
        self.hub, self.channel = hub, channel
        self.received: list[tuple[int, str, bytes]] = []
        self.last: int | None = None
        self.origin: int | None = None  # the first `ready` it saw: promises start there
        self._task: asyncio.Task[None] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        for position, kind, data in ID.findall(message.get("body", b"")):
            if kind != b"ready":
                self.received.append((int(position), kind.decode(), data))
            elif self.origin is None:
                self.origin = int(position)
            self.last = int(position)

    def connect(self) -> None:
        sub, position = self.hub.subscribe(self.channel)
        stream = EventStream(self.channel, self.last)
        self._sub = sub
        self._task = asyncio.ensure_future(stream._write(self.send, self.hub, sub, position))

    async def disconnect(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.hub.unsubscribe(self._sub)


async def caught_up(client: Client, world: World, streams: set[uuid.UUID]) -> None:
    """Until the client has the channel's last event in the log (or 8 s went by)."""
    for _ in range(800):
        if client.origin is not None:
            expected = positions(world, streams, client.origin)
            if not expected or (client.last or 0) >= expected[-1]:
                await asyncio.sleep(0.02)  # anything more (a duplicate) would show now
                return
        await asyncio.sleep(0.01)


def positions(world: World, streams: set[uuid.UUID], after: int) -> list[int]:
    notes = world.store.recorder.select_notifications(after, 100_000, inclusive_of_start=False)
    return [n.id for n in notes if n.originator_id in streams]


Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.integers(0, 20)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("drop"), st.integers(0, 3)),  # disconnect after this many yields
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=20, deadline=None)
@given(steps)
def test_reconnecting_with_the_last_id_misses_nothing_and_repeats_nothing(
    plan: list[Step],
) -> None:
    world = make_world()
    listing = world.active_listing(booking_mode="request", quantity=50)
    calendar_id = world.bookings.calendar(listing).id
    placed: list[uuid.UUID] = []

    async def run(tailer: LiveTailer) -> int:
        hub = LiveHub(tailer, queue_size=1000, heartbeat_seconds=3600)
        client = Client(hub, (AVAILABILITY, listing))
        client.connect()
        for action, n in plan:
            if action == "place":
                start_day = (NOW + timedelta(days=10 + n)).date()
                booking_id, _ = world.bookings.place(
                    world.renter, listing, start=str(start_day),
                    end=str(start_day + timedelta(days=1)), quantity=1, guests=1, at=NOW,
                )  # fmt: skip
                placed.append(booking_id)
            elif action == "cancel" and placed:
                booking_id = placed[n % len(placed)]
                if world.bookings.get(booking_id).is_active:
                    world.bookings.cancel(world.renter, booking_id, "no", NOW)
            elif action == "drop":
                for _ in range(n):
                    await asyncio.sleep(0)
                await client.disconnect()
                client.connect()
        await caught_up(client, world, {calendar_id})
        await client.disconnect()
        hub.close()
        ids = [p for p, _, _ in client.received]
        assert client.origin is not None
        assert ids == positions(world, {calendar_id}, client.origin)
        return len(ids)

    with tailing(world) as tailer:
        asyncio.run(run(tailer))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(["approve", "decline", "cancel", "expire"]), max_size=3))
def test_a_booking_events_status_is_the_bookings_status_after_it(moves: list[str]) -> None:
    world = make_world()
    listing = world.active_listing(booking_mode="request")
    start_day = (NOW + timedelta(days=10)).date()
    booking_id, _ = world.bookings.place(
        world.renter, listing, start=str(start_day), end=str(start_day + timedelta(days=2)),
        quantity=1, guests=1, at=NOW,
    )  # fmt: skip
    for move in moves:
        try:
            if move == "approve":
                world.bookings.approve(world.owner, booking_id, NOW)
            elif move == "decline":
                world.bookings.decline(world.owner, booking_id, "no", NOW)
            elif move == "cancel":
                world.bookings.cancel(world.renter, booking_id, "no", NOW)
            else:
                world.bookings.expire(booking_id, at=NOW + timedelta(days=2))
        except Exception:
            continue  # not allowed from this status: nothing recorded
    with tailing(world) as tailer:
        told = tailer.replay((BOOKING, booking_id), 0, world.store.current_position())
    assert told and [d.data["position"] for d in told] == sorted(d.position for d in told)
    for delivery in told:
        version = delivery.data["version"]
        assert (
            delivery.data["status"]
            == world.store.load(booking_id, "booking", version=version).status
        )


class StillTail:
    """A tail that never moves by itself: the test publishes pages."""

    position = 0

    def attach(self, sink: Any) -> int:
        return self.position

    def detach(self, sink: Any) -> None:
        pass


A, B = (AVAILABILITY, uuid.UUID(int=1)), (AVAILABILITY, uuid.UUID(int=2))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4),
    st.lists(st.tuples(st.lists(st.sampled_from([A, B]), max_size=4), st.integers(0, 3))),
)
def test_a_subscriber_gets_every_page_in_order_or_is_dropped_at_its_bound(
    size: int, pages: list[tuple[list[Any], int]]
) -> None:
    async def run() -> None:
        hub = LiveHub(StillTail(), queue_size=size, heartbeat_seconds=3600)  # type: ignore[arg-type]
        sub, _ = hub.subscribe(A)
        published: list[int] = []
        consumed: list[int] = []
        overflowed = False
        position = 0
        for channels, reads in pages:
            deliveries = []
            for channel in channels:
                position += 1
                deliveries.append(Delivery(position, channel, "availability", {}))
            mine = [d.position for d in deliveries if d.channel == A]
            if mine and not sub.dropped:
                overflowed = overflowed or sub.queue.full()
                published.extend(mine)
            hub._publish(position, deliveries)
            assert sub.queue.qsize() <= size
            for _ in range(min(reads, sub.queue.qsize())):
                item = sub.queue.get_nowait()
                assert isinstance(item, tuple)
                consumed.extend(p for p, _ in item)
        while not sub.queue.empty():
            item = sub.queue.get_nowait()
            assert isinstance(item, tuple)
            consumed.extend(p for p, _ in item)
        assert sub.dropped == overflowed
        if not sub.dropped:
            assert consumed == published
        else:
            assert consumed == published[: len(consumed)]  # in order up to the drop
        hub.close()

    asyncio.run(run())
