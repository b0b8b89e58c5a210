"""The bookings router is included second, after identity (issue #9: routes are tried one
by one); that is only safe while no route of the routers it was moved ahead of can match a
path it serves."""

from __future__ import annotations

from fastapi.routing import APIRoute

from interfaces.http import admin, admin_ledger, bookings, health, identity, listings
from interfaces.http.app import create_app


def _paths(module: object) -> list[str]:
    return [r.path for r in module.router.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]


def _may_overlap(a: str, b: str) -> bool:
    """Whether one request path could match both templates (conservative: a `{...:path}`
    parameter, which spans segments, counts as overlapping everything)."""
    if ":path}" in a or ":path}" in b:
        return True
    sa, sb = a.split("/"), b.split("/")
    return len(sa) == len(sb) and all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(sa, sb, strict=True)
    )


def test_bookings_paths_cannot_match_a_route_of_the_routers_it_passes() -> None:
    served = _paths(bookings)
    assert served
    for module in (admin, admin_ledger, health, listings):
        for path in _paths(module):
            assert not any(_may_overlap(path, ours) for ours in served), path
    assert _may_overlap("/me/{x}", "/me/bookings")  # the check can fail
    assert not _may_overlap("/me/listings", "/me/bookings")


def test_bookings_routes_are_tried_right_after_identity() -> None:
    paths = list(create_app().openapi()["paths"])  # in route order
    after_identity = len({f"/api/v1{p}" for p in _paths(identity)})
    assert paths[after_identity] == "/api/v1/bookings"
