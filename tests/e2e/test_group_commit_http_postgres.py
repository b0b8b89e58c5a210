"""Group commit over HTTP: `rentbook serve` on PostgreSQL takes a wave of placements at once,
racers on one listing and renters on listings of their own. Every distinct placement gets
201, exactly one racer wins and the rest get 409 `unavailable`, each 201's
`X-Rentbook-Position` is one of its own booking's events, and placements did share
transactions (rows inserted by one transaction share its `xmin`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from domain.calendar import ListingCalendar
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.e2e.served import Served, serve
from tests.e2e.test_serve_workers_postgres import _active_listing, _env, _renter_tokens

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
API = "/api/v1"
RACERS, DISTINCT, WAVES = 6, 10, 3
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@pytest.fixture
def setup(pg_settings: Settings) -> Iterator[Container]:
    container = build_container(pg_settings, **CHEAP_ARGON2)
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def served(pg_settings: Settings, setup: Container, tmp_path: Path) -> Iterator[Served]:
    with serve(["--workers", "1", "--no-seed"], _env(pg_settings), tmp_path / "serve.log") as s:
        yield s


def _wave(
    base_url: str, bodies: list[dict[str, str | int]], tokens: list[str]
) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))
    responses: list[httpx.Response | None] = [None] * len(bodies)

    def post(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait()
            responses[i] = client.post(
                f"{API}/bookings", json=bodies[i], headers={"Authorization": f"Bearer {tokens[i]}"}
            )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


def test_a_wave_of_placements_shares_commits_and_each_gets_its_own_answer(
    served: Served, setup: Container, pg_settings: Settings
) -> None:
    shared = _active_listing(setup)
    distinct = [_active_listing(setup) for _ in range(DISTINCT)]
    tokens = _renter_tokens(setup, RACERS + DISTINCT)
    winners: list[uuid.UUID] = []
    for wave in range(WAVES):
        night = date.today() + timedelta(days=20 + 5 * wave)
        period = {"start": night.isoformat(), "end": (night + timedelta(days=1)).isoformat()}
        bodies = [{"listing_id": str(shared), **period, "quantity": 1, "guests": 1}] * RACERS
        bodies += [{"listing_id": str(x), **period, "quantity": 1, "guests": 1} for x in distinct]

        responses = _wave(served.base_url, bodies, tokens)

        racers, others = responses[:RACERS], responses[RACERS:]
        assert sorted(r.status_code for r in racers) == [201] + [409] * (RACERS - 1)
        assert {r.json()["code"] for r in racers if r.status_code == 409} == {"unavailable"}
        assert [r.status_code for r in others] == [201] * DISTINCT, [r.text for r in others]
        for r in [*racers, *others]:
            if r.status_code != 201:
                continue
            booking_id = uuid.UUID(r.json()["id"])
            calendar_id = ListingCalendar.create_id(uuid.UUID(r.json()["listing_id"]))
            position = int(r.headers["X-Rentbook-Position"])
            (notification,) = setup.store.recorder.select_notifications(position, 1)
            assert notification.originator_id in (booking_id, calendar_id)
            winners.append(booking_id)

    assert pg_settings.database_url
    with psycopg.connect(pg_settings.database_url) as conn:
        (transactions,) = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM rentbook_events WHERE originator_id = ANY(%s)",
            (winners,),
        ).fetchone() or (0,)
    assert transactions < len(winners)  # some placements shared one transaction
