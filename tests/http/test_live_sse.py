"""Live updates over SSE, served by a real uvicorn on the embedded default: resume after a
disconnect (exactly the missing events, in order, then live ones), a booking's payment and
status changes, a listing's calendar, heartbeats, a slow client dropped."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from infrastructure.metrics import SSE_DROPPED
from interfaces.sse.hub import LiveHub
from projections.live_routes import AVAILABILITY, Delivery
from tests.http.conftest import API, Api, Auth, make_app
from tests.http.test_bookings_http import open_listing
from tests.polling import eventually
from tests.sse_support import SseStream, served_app


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    """The test's container served by uvicorn too (commands go through `api.client`)."""
    with served_app(make_app(api.container)) as base_url:
        yield base_url


def day(api: Api, offset: int) -> str:
    return (api.clock.now().date() + timedelta(days=offset)).isoformat()


def place(api: Api, renter: Auth, listing_id: str, start: int, end: int) -> str:
    body = {"listing_id": listing_id, "start": day(api, start), "end": day(api, end)}
    r = api.client.post(f"{API}/bookings", json=body, headers=renter.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def post(api: Api, path: str, who: Auth, json: Any = None) -> None:
    r = api.client.post(f"{API}{path}", json=json, headers=who.headers)
    assert r.status_code in (200, 201), r.text


def log_positions(api: Api, streams: set[str], after: int) -> list[int]:
    """Positions of the events of these streams after `after`, read from the log itself."""
    notes = api.container.store.recorder.select_notifications(
        after, 100_000, inclusive_of_start=False
    )
    return [n.id for n in notes if str(n.originator_id) in streams]


def test_me_stream_resumes_after_a_disconnect_with_exactly_the_missing_events(
    api: Api, served: str
) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin, booking_mode="request", quantity=5)
    url = f"{served}{API}/me/stream"
    with SseStream(url, owner.headers) as stream:
        [ready] = stream.events(1)
        b1, b2 = place(api, renter, listing, 30, 32), place(api, renter, listing, 40, 42)
        seen = stream.events(2)
    # Disconnected mid-stream; more happens meanwhile.
    b3 = place(api, renter, listing, 50, 52)
    post(api, f"/bookings/{b1}/approve", owner)
    post(api, f"/bookings/{b2}/decline", owner, {"reason": "Away"})

    last = seen[-1].id
    assert last is not None
    with SseStream(url, owner.headers | {"Last-Event-ID": str(last)}) as stream:
        missed = stream.until(lambda e: e.kind == "ready")
        post(api, f"/bookings/{b3}/cancel", renter, {"reason": "Plans changed"})
        [live] = stream.events(1)

    assert ready.kind == "ready" and ready.id is not None
    assert [(e.data["type"], e.data["booking_id"]) for e in seen] == [
        ("Booking.Placed", b1),
        ("Booking.Placed", b2),
    ]
    assert {e.data["role"] for e in seen} == {"owner"}
    replayed, resumed = missed[:-1], missed[-1]
    assert [(e.data["type"], e.data["booking_id"], e.data.get("status")) for e in replayed] == [
        ("Booking.Placed", b3, "pending_owner_approval"),
        ("Booking.Approved", b1, "pending_payment"),
        ("Booking.Declined", b2, "cancelled"),
    ]
    assert resumed.data["resumed_from"] == last
    ids = [e.id for e in [*seen, *replayed, live]]
    assert ids == log_positions(api, {b1, b2, b3}, ready.id)  # no gap, no duplicate
    assert (live.kind, live.data["type"], live.data["status"]) == (
        "booking",
        "Booking.Cancelled",
        "cancelled",
    )


def test_booking_stream_tells_payment_and_status_changes_in_log_order(
    api: Api, served: str
) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin)
    booking = place(api, renter, listing, 30, 33)
    url = f"{served}{API}/bookings/{booking}/events"
    with SseStream(url, renter.headers) as stream:
        [ready] = stream.events(1)
        r = api.client.post(f"{API}/bookings/{booking}/payment", headers=renter.headers)
        payment = str(r.json()["payment_id"])
        post(api, f"/dev/payments/{payment}/succeed", renter)
        got = stream.until(lambda e: e.data.get("status") == "confirmed")

    assert ready.id is not None
    assert {e.kind for e in got} == {"booking", "payment"}
    assert all(e.data["booking_id"] == booking for e in got)
    assert {e.data["payment_id"] for e in got if e.kind == "payment"} == {payment}
    assert "Payment.ChargeCaptured" in [e.data["type"] for e in got]
    truth = log_positions(api, {booking, payment}, ready.id)
    assert [e.id for e in got] == truth[: len(got)]


def test_availability_stream_is_public_and_names_the_dates_a_change_touches(
    api: Api, served: str
) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin)
    nights = [day(api, 30), day(api, 31)]
    with SseStream(f"{served}{API}/listings/{listing}/availability/stream") as stream:
        stream.events(1)  # ready
        booking = place(api, renter, listing, 30, 32)
        [held] = stream.events(1)
        post(api, f"/bookings/{booking}/cancel", renter, {"reason": "No"})
        [released] = stream.events(1)
        block = {"start": day(api, 60), "end": day(api, 61)}
        post(api, f"/listings/{listing}/blocks", owner, block)
        [blocked] = stream.events(1)

    assert (held.kind, held.data["type"], held.data["dates"]) == (
        "availability",
        "ListingCalendar.HoldPlaced",
        nights,
    )
    assert held.data["listing_id"] == listing and held.data["booking_id"] == booking
    assert (released.data["type"], released.data["dates"]) == ("ListingCalendar.Released", nights)
    assert (blocked.data["type"], blocked.data["dates"]) == (
        "ListingCalendar.Blocked",
        [day(api, 60)],
    )


def test_heartbeat_comments_keep_an_idle_stream_open(api: Api) -> None:
    api.container.settings.sse_heartbeat_seconds = 0.2
    owner = api.new_user()
    with (
        served_app(make_app(api.container)) as base_url,
        SseStream(f"{base_url}{API}/me/stream", owner.headers) as stream,
    ):
        first = stream.next()
        started = time.monotonic()
        beats = [stream.next(), stream.next()]
        elapsed = time.monotonic() - started

    assert first.kind == "ready"
    assert [(b.kind, b.text) for b in beats] == [("comment", "heartbeat")] * 2
    assert 0.2 <= elapsed < 5


def test_a_client_that_stops_reading_is_dropped_not_buffered(api: Api) -> None:
    api.container.settings.sse_queue_size = 2
    owner, admin = api.new_user(), api.admin()
    listing = open_listing(api, owner, admin)
    app = make_app(api.container)
    with served_app(app) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((host, int(port)))
        path = f"{API}/listings/{listing}/availability/stream"
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        hub = _wait_for_hub(app)
        _flood(hub, uuid.UUID(listing))  # big events, far more than the client reads

        assert hub.dropped == 1 and hub.connections == 0
        assert SSE_DROPPED._value.get() >= 1
        client.settimeout(10)
        received = 0
        while chunk := client.recv(1 << 20):  # what was in flight, then the server's close
            received += len(chunk)
        client.close()
    assert 0 < received < 200 * 256 * 1024  # bounded: most of the flood was never buffered


def _wait_for_hub(app: Any) -> LiveHub:
    def subscribed() -> LiveHub | None:
        hub: LiveHub | None = getattr(app.state, "live_hub", None)
        return hub if hub is not None and hub.connections == 1 else None

    return eventually(subscribed, "the stream subscribed", interval=0.02)


def _flood(hub: LiveHub, listing_id: uuid.UUID, pages: int = 200) -> None:
    """Pages of 256 KiB events for the listing's channel, straight into the hub (as the
    tail would hand them), until the hub drops the connection."""
    pad = {"pad": "x" * 256 * 1024}
    for _ in range(pages):
        position = hub.position + 1
        page = [Delivery(position, (AVAILABILITY, listing_id), "availability", pad)]
        hub.loop.call_soon_threadsafe(hub._publish, position, page)
        time.sleep(0.01)
        if hub.dropped:
            break
    eventually(lambda: not hub.connections, "the hub dropped the connection", interval=0.05)
