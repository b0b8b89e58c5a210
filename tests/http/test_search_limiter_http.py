"""The lean GET /search/listings runs at most as many searches at once as the views pool
keeps connections (interfaces/http/lean_search.py, `LeanSearch.limiter`), so a burst of
searches never opens the pool's overflow connections; answers are unchanged."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from application.context import Actor
from application.search_queries import ListingSearch
from interfaces.http.lean_routes import LeanRoutes
from interfaces.http.lean_search import LeanSearch
from tests.http.conftest import Api
from tests.http.test_search_http import SEARCH, active_listing, wait_indexed


def test_a_burst_of_searches_stays_within_the_views_pool(
    any_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = Actor(uuid.UUID(any_api.new_user().id), "user")
    made = {active_listing(any_api, owner), active_listing(any_api, owner, "porto")}
    wait_indexed(any_api, made)
    expected = any_api.client.get(f"{SEARCH}?q=&sort=newest")
    assert expected.status_code == 200

    stack = any_api.app.router.middleware_stack
    assert isinstance(stack, LeanRoutes)
    lean = stack.routes[("GET", SEARCH)]
    assert isinstance(lean, LeanSearch)
    pool_size = any_api.container.views.pool.size()  # type: ignore[attr-defined]
    assert lean.held and lean.held[0].total_tokens == pool_size

    lock = threading.Lock()
    running, most = 0, 0
    real = ListingSearch.search

    def slow_search(self: ListingSearch, *args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.02)  # long enough for the burst to pile up
            return real(self, *args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(ListingSearch, "search", slow_search)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=any_api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.get(f"{SEARCH}?q=&sort=newest") for _ in range(3 * pool_size))
            )

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * (3 * pool_size)
    assert {r.content for r in responses} == {expected.content}
    assert 1 < most <= pool_size
