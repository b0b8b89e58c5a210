"""Wishlists over HTTP, on the embedded default and on PostgreSQL: create, rename, delete,
add and remove listings (idempotently), the list with listing summaries, the read-only
share link (rotated, revoked), privacy (404 for another user's), and `in_wishlist` on
search hits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import Response

from application.context import Actor
from tests.http.conftest import API, Api, Auth
from tests.http.test_search_http import active_listing, search, wait_indexed

ME = f"{API}/me/wishlists"


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> Api:
    api: Api = request.getfixturevalue("api" if request.param == "sqlite" else "pg_api")
    return api


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def read(api: Api, path: str, user: Auth | None = None, after: Response | None = None) -> Any:
    headers = dict(user.headers) if user else {}
    if after is not None:
        headers["X-Rentbook-Min-Position"] = after.headers["X-Rentbook-Position"]
    return api.client.get(path, headers=headers)


def owner_listings(api: Api, count: int) -> list[str]:
    """Active listings, in the listings view (wishlists show their summaries from it)."""
    owner = Actor(uuid.UUID(api.new_user().id), "user")
    listings = [active_listing(api, owner, title=f"Flat number {i}") for i in range(count)]
    assert api.container.runner.wait_for(api.container.store.current_position(), ["listings"], 30)
    return listings


def test_a_wishlist_is_created_filled_and_listed_with_summaries(any_api: Api) -> None:
    api = any_api
    first, second = owner_listings(api, 2)
    alice = api.new_user()
    created = ok(api.client.post(ME, json={"name": "Lisbon"}, headers=alice.headers), 201)
    assert created["listings"] == [] and created["shared"] is False
    wid = created["id"]
    for listing in (first, second, first):  # the second add of `first` changes nothing
        r = api.client.put(f"{ME}/{wid}/listings/{listing}", headers=alice.headers)
        body = ok(r)
    assert [i["listing_id"] for i in body["listings"]] == [first, second]
    assert body["listings"][0]["listing"]["title"] == "Flat number 0"
    assert r.headers["X-Rentbook-Position"] == "0"  # the repeated add recorded nothing

    renamed = api.client.patch(
        f"{ME}/{wid}", json={"name": "Lisbon, May"}, headers={**alice.headers, "If-Match": '"3"'}
    )
    assert ok(renamed)["name"] == "Lisbon, May"
    stale = api.client.patch(
        f"{ME}/{wid}", json={"name": "x"}, headers={**alice.headers, "If-Match": '"3"'}
    )
    assert stale.status_code == 412
    removed = api.client.delete(f"{ME}/{wid}/listings/{second}", headers=alice.headers)
    assert [i["listing_id"] for i in ok(removed)["listings"]] == [first]

    page = ok(read(api, ME, alice, after=removed))
    (listed,) = page["data"]
    assert listed["name"] == "Lisbon, May"
    summary = listed["listings"][0]["listing"]
    assert summary["id"] == first and summary["status"] == "active"
    assert summary["price"]["currency"] == "EUR" and summary["city"] == "Lisbon"

    gone = api.client.delete(f"{ME}/{wid}", headers=alice.headers)
    assert ok(gone) == {"id": wid, "status": "deleted"}
    assert ok(read(api, ME, alice, after=gone))["data"] == []
    assert api.client.get(f"{ME}/{wid}", headers=alice.headers).status_code == 404


def test_another_users_wishlist_is_not_found(api: Api) -> None:
    (listing,) = owner_listings(api, 1)
    alice, mallory = api.new_user(), api.new_user()
    wid = ok(api.client.post(ME, json={"name": "Mine"}, headers=alice.headers), 201)["id"]
    for method, path in [
        ("GET", f"{ME}/{wid}"),
        ("DELETE", f"{ME}/{wid}"),
        ("PUT", f"{ME}/{wid}/listings/{listing}"),
        ("POST", f"{ME}/{wid}/share"),
    ]:
        assert api.client.request(method, path, headers=mallory.headers).status_code == 404
    assert api.client.get(ME).status_code == 401
    missing = api.client.put(f"{ME}/{wid}/listings/{uuid.uuid4()}", headers=alice.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "listing_not_found"


def test_bad_names_are_problems(api: Api) -> None:
    alice = api.new_user()
    for body in ({"name": ""}, {"name": "x" * 101}, {}, {"name": "ok", "extra": 1}):
        r = api.client.post(ME, json=body, headers=alice.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith(
            "application/problem+json"
        )
    r = api.client.post(ME, json={"name": "   "}, headers=alice.headers)
    assert r.status_code == 422


def test_the_share_link_reads_without_sign_in_and_stops_when_rotated_or_revoked(
    any_api: Api,
) -> None:
    api = any_api
    (listing,) = owner_listings(api, 1)
    alice = api.new_user()
    wid = ok(api.client.post(ME, json={"name": "Trip"}, headers=alice.headers), 201)["id"]
    ok(api.client.put(f"{ME}/{wid}/listings/{listing}", headers=alice.headers))
    shared = api.client.post(f"{ME}/{wid}/share", headers=alice.headers)
    first = ok(shared)
    assert first["shared"] is True and first["share_path"].endswith(first["share_token"])
    view = ok(read(api, first["share_path"], after=shared))
    assert view["name"] == "Trip" and [i["listing_id"] for i in view["listings"]] == [listing]
    assert "owner_id" not in view and "share_token" not in view

    rotated = api.client.post(f"{ME}/{wid}/share", headers=alice.headers)
    second = ok(rotated)
    assert second["share_token"] != first["share_token"]
    assert read(api, first["share_path"], after=rotated).status_code == 404
    assert read(api, second["share_path"], after=rotated).status_code == 200
    listed = ok(read(api, ME, alice, after=rotated))["data"][0]
    assert listed["share_token"] == second["share_token"]

    revoked = api.client.delete(f"{ME}/{wid}/share", headers=alice.headers)
    assert ok(revoked)["shared"] is False and ok(revoked)["share_token"] is None
    assert read(api, second["share_path"], after=revoked).status_code == 404
    again = ok(api.client.post(f"{ME}/{wid}/share", headers=alice.headers))
    assert again["share_token"] not in (first["share_token"], second["share_token"])
    for junk in ("nope", "A" * 46, second["share_token"][:-2] + "xx"):
        assert api.client.get(f"{API}/wishlists/shared/{junk}").status_code == 404


def test_search_hits_say_whether_they_are_in_the_users_wishlists(any_api: Api) -> None:
    api = any_api
    liked, other = owner_listings(api, 2)
    wait_indexed(api, {liked, other})
    alice, bob = api.new_user(), api.new_user()
    wid = ok(api.client.post(ME, json={"name": "Likes"}, headers=alice.headers), 201)["id"]
    ok(api.client.put(f"{ME}/{wid}/listings/{liked}", headers=alice.headers))

    def marks(user: Auth | None) -> dict[str, Any]:
        position = str(api.container.store.current_position())
        headers = {"X-Rentbook-Min-Position": position, **(user.headers if user else {})}
        r = api.client.get(f"{API}/search/listings", params={"limit": 100}, headers=headers)
        return {h["id"]: h["in_wishlist"] for h in ok(r)["data"] if h["id"] in (liked, other)}

    assert marks(alice) == {liked: True, other: False}
    assert marks(bob) == {liked: False, other: False}
    assert marks(None) == {liked: False, other: False}
    assert all(h["in_wishlist"] is False for h in search(api, limit=5)["data"])
