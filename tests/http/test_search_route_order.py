"""The search router is included third, after identity and bookings (issue #9: routes are
tried one by one, ~10 µs per router passed); that is only safe while no route of the
routers it was moved ahead of can match a path it serves."""

from __future__ import annotations

from interfaces.http import (
    admin,
    admin_jobs,
    admin_ledger,
    bookings,
    disputes,
    health,
    identity,
    listings,
    payments,
    places,
    search,
)
from interfaces.http.app import create_app
from tests.http.test_route_order import _may_overlap, _paths


def test_search_paths_cannot_match_a_route_of_the_routers_it_passes() -> None:
    served = _paths(search)
    assert "/search/listings" in served
    for module in (admin, admin_ledger, health, listings, payments, places, disputes, admin_jobs):
        for path in _paths(module):
            assert not any(_may_overlap(path, ours) for ours in served), path


def test_search_routes_are_tried_right_after_identity_and_bookings() -> None:
    paths = list(create_app().openapi()["paths"])  # in route order
    before = len({f"/api/v1{p}" for m in (identity, bookings) for p in _paths(m)})
    assert paths[before] == "/api/v1/search/listings"
