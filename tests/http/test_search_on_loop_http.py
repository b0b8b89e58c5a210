"""Where the lean path runs GET /search/listings (lean_search.py, task SG): on the event
loop's thread on the embedded SQLite index without `X-Rentbook-Min-Position`; on a pool
thread with it (the wait blocks) and on PostgreSQL's index (queries wait on the network).
A request waiting for a position leaves the loop free for other searches meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import interfaces.http.search as search_module
from application.search_queries import ListingSearch
from tests.http.conftest import Api
from tests.http.test_lean_routes_http import counting_solved
from tests.http.test_lean_search_http import _search, indexed
from tests.http.test_search_http import SEARCH

__all__ = ["indexed"]  # fixture used here

HEADER = "X-Rentbook-Min-Position"


def on_loop(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each search from now on, whether it ran on a thread with a running event loop."""
    seen: list[bool] = []
    real = ListingSearch.search

    def recording(self: ListingSearch, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ListingSearch, "search", recording)
    return seen


def test_on_sqlite_a_search_without_a_position_runs_on_the_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in = api.new_user().headers
    seen, solved = on_loop(monkeypatch), counting_solved(monkeypatch)
    assert api.client.get(SEARCH, params={"q": "loft"}).status_code == 200
    assert api.client.get(SEARCH, params={"sort": "newest"}, headers=signed_in).status_code == 200
    assert api.client.get(SEARCH, headers={HEADER: "0"}).status_code == 200
    assert seen == [True, True, False]
    assert solved == []  # all three on the lean path


def test_a_search_runs_on_the_loop_only_on_sqlite(
    indexed: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = on_loop(monkeypatch)
    assert indexed.client.get(SEARCH, params={"q": "loft"}).status_code == 200
    assert indexed.client.get(SEARCH, headers={HEADER: "0"}).status_code == 200
    # PostgreSQL's index waits on the network: it keeps the pool.
    assert seen == [indexed.container.views.dialect.name == "sqlite", False]


def test_a_search_on_the_loop_is_the_same_answer(indexed: Api) -> None:
    signed_in = indexed.new_user().headers
    for query in ("q=loft", "q=lof&sort=price_asc", "start=2031-03-01&end=2031-03-04", ""):
        _search(indexed, query)
        _search(indexed, query, signed_in)
    _search(indexed, "q=" + "x" * 201)  # 422 from FastAPI's route, as before
    _search(indexed, "sort=distance&lat=91&lng=0")


def held_wait(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """(entered, release): the search index wait blocks its thread until `release`."""
    entered, release = threading.Event(), threading.Event()
    real: Callable[..., None] = search_module.wait_for_search_index

    def holding(*args: Any) -> None:
        entered.set()
        assert release.wait(60)
        real(*args)

    monkeypatch.setattr(search_module, "wait_for_search_index", holding)
    return entered, release


def test_a_search_waiting_for_a_position_leaves_the_loop_to_others(
    indexed: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = held_wait(monkeypatch)
    position = str(indexed.container.store.current_position())
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(indexed.client.get, SEARCH, headers={HEADER: position})
        try:
            assert entered.wait(60)
            # Served by the same loop while the other request is held in its wait.
            other = indexed.client.get(SEARCH, params={"q": "loft"})
            assert other.status_code == 200
            assert [hit["title"] for hit in other.json()["data"]] == ["Sunny loft near the river"]
            assert not waiting.done()
        finally:
            release.set()
        assert waiting.result(60).status_code == 200
