"""`rentbook serve --workers 2` on PostgreSQL + Redis as a real subprocess: many renters race
for the last unit of one listing over HTTP; exactly one wins, everyone else gets 409, the
calendar shows one allocation, and both API worker processes answered."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from application.context import Actor, command_context
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec, verified_user
from tests.e2e.served import Served, serve

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
API = "/api/v1"
RACERS = 16
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


def _env(settings: Settings) -> dict[str, str]:
    return {
        "RENTBOOK_ENVIRONMENT": "test",
        "RENTBOOK_DATABASE_URL": settings.database_url or "",
        "RENTBOOK_REDIS_URL": settings.redis_url or "",
        "RENTBOOK_REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "RENTBOOK_DATA_DIR": str(settings.data_dir),
        "RENTBOOK_POSTGRES_POOL_SIZE": "4",  # three processes share the server's connections
        "RENTBOOK_POSTGRES_MAX_OVERFLOW": "8",
    }


@pytest.fixture
def setup(pg_settings: Settings) -> Iterator[Container]:
    """The test's own container on the same database and Redis: it makes the listing and
    logs the renters in (their sessions live in Redis, so the server accepts them)."""
    container = build_container(pg_settings, **CHEAP_ARGON2)
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def served(pg_settings: Settings, setup: Container, tmp_path: Path) -> Iterator[Served]:
    args = ["--workers", "2", "--no-seed"]
    with serve(args, _env(pg_settings), tmp_path / "serve.log") as running:
        yield running


def _active_listing(container: Container) -> uuid.UUID:
    now = datetime.now(UTC)
    owner = Actor(verified_user(container.store), "user")
    admin = Actor(uuid.uuid4(), "admin")
    with command_context(owner):
        listing_id, _ = container.listings.create(owner, listing_spec(quantity=1), now)
        container.listings.submit(owner, listing_id, now)
    with command_context(admin):
        container.listings.approve(admin, listing_id, now)
    return listing_id


def _renter_tokens(container: Container, count: int) -> list[str]:
    now = datetime.now(UTC)
    tokens = []
    for i in range(count):
        email = f"racer-{i}-{uuid.uuid4().hex[:8]}@example.com"
        container.identity.register(email, "correct horse battery", f"Racer {i}", at=now)
        session, _, _ = container.identity.login(email, "correct horse battery", at=now)
        assert session.token is not None
        tokens.append(session.token)
    return tokens


def _race(base_url: str, body: dict[str, object], tokens: list[str]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(tokens))
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def racer(token: str) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:  # its own connection
            barrier.wait()
            r = client.post(
                f"{API}/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        with lock:
            responses.append(r)

    threads = [threading.Thread(target=racer, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return responses


def test_two_api_workers_race_for_the_last_unit_and_exactly_one_wins(
    served: Served, setup: Container
) -> None:
    listing_id = _active_listing(setup)
    tokens = _renter_tokens(setup, RACERS)
    night = date.today() + timedelta(days=20)
    body = {
        "listing_id": str(listing_id),
        "start": night.isoformat(),
        "end": (night + timedelta(days=1)).isoformat(),
        "quantity": 1,
        "guests": 1,
    }

    responses = _race(served.base_url, body, tokens)

    assert len(responses) == RACERS
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    losers = [r for r in responses if r.status_code == 409]
    assert {r.json()["code"] for r in losers} == {"unavailable"}
    winner = next(r for r in responses if r.status_code == 201)
    calendar = httpx.get(
        f"{served.base_url}{API}/listings/{listing_id}/calendar",
        params={"from": night.isoformat(), "to": (night + timedelta(days=1)).isoformat()},
        headers={"X-Rentbook-Min-Position": winner.headers["X-Rentbook-Position"]},
        timeout=30,
    )
    assert calendar.status_code == 200, calendar.text
    [day] = calendar.json()
    assert (day["held"], day["reserved"], day["available_units"]) == (1, 0, 0)


# One server for both checks: starting `serve --workers 2` (three processes importing the
# whole app) is most of their cost, and SIGTERM ends the server the first check used.
def test_both_api_workers_answer_neither_runs_the_background_workers_and_sigterm_stops_all(
    served: Served,
) -> None:
    answered = served.health_pids(want=2)

    assert len(answered) == 2
    assert set(answered) <= served.child_pids()  # the parent's own processes
    assert served.process.pid not in answered
    assert all(body["background_workers"] is False for body in answered.values())
    assert "2 API workers; background workers once, in the parent process" in served.output()

    # SIGTERM stops the parent and both API workers.
    served.process.terminate()

    assert served.process.wait(60) == 0
    assert not [pid for pid in answered if Path(f"/proc/{pid}").exists()]
