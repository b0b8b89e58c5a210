"""Racing writers on real PostgreSQL: renters' first inquiries about one listing and the
first messages of a booking's conversation, sent at once from many threads, make exactly
one conversation each, with every message in it once and numbered 1..n without gaps; the
conversations view built from the log agrees."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from application.conversations import Conversations
from domain.conversation import booking_conversation_id
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

pytestmark = pytest.mark.postgres
REPLAY_POOL = {"postgres_pool_size": 1, "postgres_max_overflow": 2}
THREADS = 16


def race(action: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    outcomes: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = action(i)
        except Exception as e:  # any error is a failure of the claim
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racing_first_messages_make_one_conversation_each(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path, postgres_pool_size=20
    )
    store = build_event_store(settings)
    request.addfinalizer(store.close)  # its 20 connections back to the shared server
    world = make_world(store)
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-07-01", end="2026-07-03", quantity=1, guests=1, at=NOW
    )
    conversations = Conversations(store, world.bookings)

    inquiries = race(
        lambda i: conversations.inquire(world.renter, listing_id, f"inquiry {i}", None, NOW)
    )
    assert not [o for o in inquiries if isinstance(o, Exception)], inquiries
    assert len({o[0] for o in inquiries}) == 1
    assert sum(1 for o in inquiries if o[2]) == 1  # exactly one created it
    inquiry_id = inquiries[0][0]

    cid = booking_conversation_id(booking_id)
    parties = (world.renter, world.owner)
    writes = race(
        lambda i: conversations.post(
            parties[i % 2], cid, f"message {i}", None, NOW, booking_id=booking_id
        )
    )
    assert not [o for o in writes if isinstance(o, Exception)], writes

    # The replay reads from one thread: a small pool, so the shared server's connections
    # go to the racers (psycopg opens the whole pool up front).
    fresh = build_event_store(settings.model_copy(update=REPLAY_POOL))
    request.addfinalizer(fresh.close)
    for conversation_id in (inquiry_id, cid):
        events: list[Any] = [e for e in fresh.events.get(conversation_id) if hasattr(e, "seq")]
        assert sorted(e.seq for e in events) == list(range(1, THREADS + 1))
        assert len({e.text for e in events}) == THREADS

    engine = create_views_engine(views_url(settings))
    try:
        runner = ProjectionRunner(fresh, engine, all_projections())
        runner.catch_up()
        tables = runner.tables("conversations")
        with engine.connect() as conn:
            for conversation_id in (inquiry_id, cid):
                count = conn.execute(
                    select(tables["conversations"].c.message_count).where(
                        tables["conversations"].c.id == conversation_id
                    )
                ).scalar_one()
                rows = conn.execute(
                    select(func.count()).where(
                        tables["messages"].c.conversation_id == UUID(str(conversation_id))
                    )
                ).scalar_one()
                assert count == rows == THREADS
    finally:
        engine.dispose()
