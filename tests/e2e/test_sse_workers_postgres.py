"""`rentbook serve --workers 2` on PostgreSQL: a write through either API worker (or another
process altogether) reaches SSE clients on both workers (LISTEN/NOTIFY wakes every worker's
log tail), and SIGTERM is not held up by open streams."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from application.context import Actor, command_context
from infrastructure.bootstrap import Container
from infrastructure.settings import Settings
from tests.e2e.served import Served, serve
from tests.e2e.test_serve_workers_postgres import _active_listing, _env, setup  # noqa: F401
from tests.sse_support import SseStream

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
API = "/api/v1"


@pytest.fixture
def served(pg_settings: Settings, setup: Container, tmp_path: Path) -> Iterator[Served]:  # noqa: F811
    args = ["--workers", "2", "--no-seed"]
    with serve(args, _env(pg_settings), tmp_path / "serve.log") as running:
        yield running


def _stream_per_worker(url: str, seconds: float = 90) -> dict[int, SseStream]:
    """Opens streams until both workers hold one; closes the extra ones. Which worker
    accepts is the kernel's choice: extra streams stay open meanwhile (a busier worker is
    slower to accept again) and a short pause lets the other worker's loop run. Bounded by
    time, not tries: on a loaded machine the second worker may still be starting."""
    streams: dict[int, SseStream] = {}
    extra: list[SseStream] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                stream = SseStream(url, timeout=30)
                [ready] = stream.events(1)
            except httpx.TransportError:  # a worker still starting resets the connection
                time.sleep(0.2)
                continue
            pid = int(ready.data["worker_pid"])
            if pid in streams:
                extra.append(stream)
                time.sleep(0.05)
            else:
                streams[pid] = stream
            if len(streams) == 2:
                return streams
    finally:
        for stream in extra:
            stream.close()
    for stream in streams.values():
        stream.close()
    raise AssertionError("every stream landed on one worker")


# One test, one server: starting `serve --workers 2` (three processes importing the whole
# app) is most of the cost, and the SIGTERM check ends the server the write check used.
def test_a_write_reaches_clients_of_both_workers_and_sigterm_ends_them_promptly(
    served: Served,
    setup: Container,  # noqa: F811
) -> None:
    listing_id = _active_listing(setup)
    url = f"{served.base_url}{API}/listings/{listing_id}/availability/stream"
    streams = _stream_per_worker(url)
    night = date.today() + timedelta(days=20)
    renter = _renter(setup)
    try:
        body = {
            "listing_id": str(listing_id),
            "start": night.isoformat(),
            "end": (night + timedelta(days=1)).isoformat(),
        }
        r = httpx.post(
            f"{served.base_url}{API}/bookings", json=body, headers=renter, timeout=60
        )  # handled by one of the two workers
        assert r.status_code == 201, r.text
        position = int(r.headers["X-Rentbook-Position"])
        started = time.monotonic()
        heard = {pid: s.events(1)[0] for pid, s in streams.items()}
        elapsed = time.monotonic() - started
        # And a write by another process altogether (the test's own container).
        now = datetime.now(UTC)
        owner = Actor(setup.listings.get(listing_id).owner_id, "user")
        block_start = night + timedelta(days=10)
        with command_context(owner):
            setup.listings.add_block(
                owner,
                listing_id,
                block_start.isoformat(),
                (block_start + timedelta(days=1)).isoformat(),
                "",
                now,
            )
        blocked = {pid: s.events(1)[0] for pid, s in streams.items()}

        assert len(heard) == 2
        for event in heard.values():
            assert event.data["type"] == "ListingCalendar.HoldPlaced"
            assert event.data["dates"] == [night.isoformat()]
            assert event.id is not None and event.id <= position
        assert len({e.id for e in heard.values()}) == 1  # the same log position on both
        assert elapsed < 10
        assert {e.data["type"] for e in blocked.values()} == {"ListingCalendar.Blocked"}

        _sigterm_ends_open_streams_and_the_server_promptly(served, streams)
    finally:
        for stream in streams.values():
            stream.close()


def _sigterm_ends_open_streams_and_the_server_promptly(
    served: Served, streams: dict[int, SseStream]
) -> None:
    """With a stream open on each worker, SIGTERM is not held up by them."""
    started = time.monotonic()

    served.process.terminate()

    assert served.process.wait(30) == 0
    assert time.monotonic() - started < 15
    for stream in streams.values():
        with pytest.raises((EOFError, httpx.HTTPError)):
            while True:
                stream.next()
        stream.close()


def _renter(container: Container) -> dict[str, str]:
    now = datetime.now(UTC)
    email = f"renter-{uuid.uuid4().hex[:8]}@example.com"
    container.identity.register(email, "correct horse battery", "Renter", at=now)
    session, _, _ = container.identity.login(email, "correct horse battery", at=now)
    assert session.token is not None
    return {"Authorization": f"Bearer {session.token}"}
