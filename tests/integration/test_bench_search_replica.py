"""bench/_search_replica.py: a corpus seeded for a block and replicated in bulk is the corpus
`seed_demo` makes for the whole size, listing for listing (bar ids, timestamps and the
bookings past the block), so the index answers the same queries with the same counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from application.demo import seed_demo
from application.search import SearchQuery, SearchResult
from bench._search_replica import BLOCK, creation_order, seed_replicated
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings

SIZE, SMALL_BLOCK = 480, 96
CHEAP = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
QUERIES = [
    SearchQuery(),
    SearchQuery(q="loft"),
    SearchQuery(q="bike tokyo"),
    SearchQuery(q="apartmnet"),  # a typo
    SearchQuery(category="stay", currency="EUR", max_price=10_000, sort="price_asc"),
    SearchQuery(category="court", guests=6, instant_book=True),
    SearchQuery(amenities=("wifi",), sort="rating"),
    SearchQuery(lat=48.8566, lng=2.3522, radius_km=50, sort="distance"),
    SearchQuery(bbox=(60.0, -10.0, 35.0, 30.0)),
]


def _open(tmp: Path) -> Container:
    return build_container(Settings(environment="test", data_dir=tmp), **CHEAP)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    tmp = tmp_path_factory.mktemp("replicated")
    seed_replicated(Settings(environment="test", data_dir=tmp), SIZE, SMALL_BLOCK)
    container = _open(tmp)
    yield container
    container.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The same size through the use cases, as `search.seed` makes it."""
    container = _open(tmp_path_factory.mktemp("seeded"))
    container.places.load()
    at = container.clock.now()
    seed_demo(
        container.identity, container.listings, container.bookings,
        count=SIZE, at=at, places=container.places,
    )  # fmt: skip
    container.runner.catch_up()
    assert container.search is not None and container.search_syncer is not None
    container.search.ensure_settings()
    container.search_syncer.rebuild(at.astimezone(UTC).date())
    yield container
    container.close()


def _listing_ids(container: Container) -> list[str]:
    notes = container.store.recorder.select_notifications(start=1, limit=10**9)
    return [str(n.originator_id) for n in notes if n.topic == "domain.listing:Listing.Created"]


def _answer(result: SearchResult) -> tuple[Any, ...]:
    """What a query answers, ids aside: the count, the facets, the price range (the order
    of hits with equal scores follows their ids)."""
    return result.total_estimate, result.facets, result.price_stats


def test_a_replicated_corpus_has_every_listing_once_and_indexed(replicated: Container) -> None:
    ids = _listing_ids(replicated)
    assert len(ids) == SIZE and len(set(ids)) == SIZE
    assert replicated.search is not None
    assert all(replicated.search.get(i) is not None for i in ids)
    assert replicated.search.search(SearchQuery(limit=1)).total_estimate == SIZE


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_the_index_answers_as_on_the_seeded_corpus(
    replicated: Container, seeded: Container, query: SearchQuery
) -> None:
    """Dates aside: the replicated corpus books within its block only."""
    assert replicated.search is not None and seeded.search is not None
    got = _answer(replicated.search.search(query))
    assert got[0] > 0
    assert got == _answer(seeded.search.search(query))


def test_the_copies_mails_are_history(replicated: Container) -> None:
    """Nothing is left to send: the email horizon is the end of the replicated log."""
    assert replicated.notifications is not None
    assert replicated.notifications.outbox.pending(10) == []


def test_a_block_that_would_change_owners_or_templates_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="block"):
        seed_replicated(Settings(environment="test", data_dir=tmp_path), SIZE, 100)
    assert BLOCK % 24 == 0 and sorted(creation_order(BLOCK, 8)) == list(range(BLOCK))


@pytest.mark.postgres
def test_a_replicated_corpus_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """The PostgreSQL template database (`http_wrk.py --search-db postgres`) builds alike."""
    settings = Settings(
        environment="test", database_url=pg_url, data_dir=tmp_path,
        postgres_pool_size=2, postgres_max_overflow=2,
    )  # fmt: skip
    seeded, index = seed_replicated(settings, 240, SMALL_BLOCK)
    assert seeded["listings"] == index["documents"] == 240
    container = build_container(settings, **CHEAP)
    try:
        ids = _listing_ids(container)
        assert len(ids) == len(set(ids)) == 240
        assert container.search is not None
        assert container.search.search(SearchQuery(q="loft", limit=1)).total_estimate > 0
        assert container.notifications is not None
        assert container.notifications.outbox.pending(10) == []
    finally:
        container.close()
