"""GET /search/listings with `X-Rentbook-Min-Position` on the lean path (lean_search.py): it
is served without FastAPI's parameter solving and answers as the FastAPI route does (status,
headers, bytes): reached positions, malformed ones (422), positions the views or the index
have not reached (503 with Retry-After), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api
from tests.http.test_lean_routes_http import counting_solved
from tests.http.test_lean_search_http import _search, indexed
from tests.http.test_search_http import SEARCH
from tests.http.test_search_read_your_writes_http import approve_new_listing, views_only

__all__ = ["indexed", "views_only"]  # fixtures used here

HEADER = "X-Rentbook-Min-Position"


def _spellings(api: Api) -> list[str]:
    current = api.container.store.current_position()
    return [str(current), "0", "", "  ", f" {current} ", "nope", "-1", "1.0", "9" * 20]


def test_a_search_waiting_for_a_position_is_served_lean(
    indexed: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved = counting_solved(monkeypatch)
    statuses = [
        indexed.client.get(SEARCH, params={"q": "loft"}, headers={HEADER: raw}).status_code
        for raw in _spellings(indexed)
    ]
    assert statuses == [200, 200, 200, 200, 200, 422, 422, 422, 422]
    assert solved == []
    # Spelled with underscores (read differently by the servers) it is FastAPI's.
    r = indexed.client.get(SEARCH, headers={"X_Rentbook_Min_Position": "1"})
    assert r.status_code == 200
    assert len(solved) == 1


def test_every_spelling_of_the_position_is_the_same_answer(indexed: Api) -> None:
    signed_in = indexed.new_user().headers
    for raw in _spellings(indexed):
        _search(indexed, "q=loft", {HEADER: raw})
        _search(indexed, "start=2031-03-01&end=2031-03-04&quantity=2", {HEADER: raw})
        _search(indexed, "sort=newest", {**signed_in, HEADER: raw})
    _search(indexed, "limit=+5", {HEADER: "1"})  # a parameter FastAPI reads, with the wait
    _search(indexed, "", {HEADER: "1", "x_rentbook_min_position": "nope"})


def test_a_position_the_views_have_not_reached_is_the_same_503(indexed: Api) -> None:
    indexed.app.state.min_position_timeout = 0.05
    ahead = str(indexed.container.store.current_position() + 1_000)
    r = indexed.client.get(SEARCH, headers={HEADER: ahead})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.json()["type"].endswith("views_behind")
    _search(indexed, "q=loft", {HEADER: ahead})


def test_a_position_the_index_has_not_reached_is_the_same_503(views_only: Api) -> None:
    api = views_only
    api.app.state.min_position_timeout = 0.05
    position = approve_new_listing(api, api.new_user(), api.admin(), "lean")
    assert api.container.runner.wait_for(int(position), None, 60)
    r = api.client.get(SEARCH, params={"q": "lean"}, headers={HEADER: position})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.json()["type"].endswith("search_index_behind")
    _search(api, "q=lean", {HEADER: position})
