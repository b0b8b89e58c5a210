"""The reviews, review deadline and search document views fed a booking's reviews: a page
applied twice changes nothing, and what they hold after submission, publication, a reply
and a hidden review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select

from application.context import Actor
from application.reviews import Reviews
from domain.review import OWNER, RENTER, review_id_for
from infrastructure.views_db import create_views_engine
from projections.base import Projection, new_metadata, write_transaction
from projections.review_deadlines import ReviewDeadlinesView, due_publications
from projections.reviews import ReviewsView, list_reviews, listing_rating, user_review_summary
from projections.search_documents import SearchDocumentsView
from tests.builders import World, make_world
from tests.review_builders import returned_booking


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def history(world: World) -> tuple[Any, Any]:
    """Two bookings of one listing: one reviewed by both sides (the owner's review then
    hidden, the renter's replied to), one by the renter alone (still pending)."""
    listing_id = world.active_listing()
    reviews = Reviews(world.store, world.bookings)
    both, returned = returned_booking(world, listing_id)
    lone, lone_returned = returned_booking(world, listing_id, start="2026-06-20", end="2026-06-22")
    at = returned + timedelta(hours=2)
    reviews.submit(world.renter, both, rating=4, comment="ok", category_ratings={"value": 5}, at=at)
    reviews.submit(world.owner, both, rating=3, comment="late", category_ratings=None, at=at)
    reviews.reply(world.owner, review_id_for(both, RENTER), "thanks", at)
    admin = Actor(world.admin.id, "admin")
    reviews.hide(admin, review_id_for(both, OWNER), "rude", at)
    reviews.submit(
        world.renter, lone, rating=1, comment="bad", category_ratings=None, at=lone_returned
    )
    return listing_id, lone


def apply_all(
    world: World, engine: Engine, projection: Projection, times: int = 1
) -> dict[str, Table]:
    store, topics = world.store, set(projection.topics)
    page = [
        (store.mapper.to_domain_event(n), n.id)
        for n in store.recorder.select_notifications(1, 10_000)
        if not topics or n.topic in topics
    ]
    metadata = new_metadata()
    tables = projection.define_tables(metadata, "")
    with write_transaction(engine) as conn:
        metadata.create_all(conn)
    for _ in range(times):
        with write_transaction(engine) as conn:
            projection.process_page(conn, tables, page)
    return tables


def rows(engine: Engine, tables: dict[str, Table]) -> dict[str, list[tuple[str, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
            for name, t in tables.items()
        }


@pytest.mark.parametrize(
    "make", [ReviewsView, ReviewDeadlinesView, SearchDocumentsView], ids=lambda p: p.name
)
def test_replaying_a_page_of_review_events_changes_nothing(
    make: type[Projection], tmp_path: Path
) -> None:
    world = make_world()
    history(world)
    once_engine = create_views_engine(f"sqlite:///{tmp_path / 'once.db'}")
    twice_engine = create_views_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    try:
        once = rows(once_engine, apply_all(world, once_engine, make()))
        twice = rows(twice_engine, apply_all(world, twice_engine, make(), times=2))
        assert twice == once
    finally:
        once_engine.dispose()
        twice_engine.dispose()


def test_only_published_visible_reviews_are_listed_and_rated(engine: Engine) -> None:
    world = make_world()
    listing_id, _ = history(world)
    tables = apply_all(world, engine, ReviewsView())
    with engine.connect() as conn:
        listed, _ = list_reviews(conn, tables, listing_id=listing_id)
        assert [(r["rating"], r["reply"]) for r in listed] == [(4, "thanks")]
        assert list_reviews(conn, tables, reviewee_id=world.renter.id)[0] == []  # hidden
        assert listing_rating(conn, tables, listing_id) == {
            "count": 1,
            "average": 4.0,
            "categories": {"value": 5.0},
        }
        assert user_review_summary(conn, tables, world.owner.id)["count"] == 1
        assert user_review_summary(conn, tables, world.renter.id) == {
            "count": 0,
            "average": 0.0,
            "categories": {},
        }


def test_the_review_deadline_is_the_window_close_until_published(engine: Engine) -> None:
    world = make_world()
    _, lone = history(world)
    tables = apply_all(world, engine, ReviewDeadlinesView())
    reviews = Reviews(world.store, world.bookings).of_booking(lone)
    assert reviews is not None
    closes = reviews.window_closes_at
    with engine.connect() as conn:
        assert due_publications(conn, tables, closes - timedelta(seconds=1), 10) == []
        # Only the lone review waits: the other booking's pair is published.
        assert due_publications(conn, tables, closes + timedelta(days=30), 10) == [
            (lone, closes, reviews.version)
        ]


def test_the_search_document_carries_the_listing_rating(engine: Engine) -> None:
    world = make_world()
    listing_id, _ = history(world)
    tables = apply_all(world, engine, SearchDocumentsView())
    docs = tables["documents"]
    with engine.connect() as conn:
        doc = conn.execute(select(docs).where(docs.c.id == listing_id)).mappings().one()
    assert (doc["rating"], doc["review_count"], doc["rating_total"]) == (4.0, 1, 4)
