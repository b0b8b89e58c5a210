"""Set-up of the renter pages' browser tests through the served app's API: an inquiry
conversation and a shared wishlist of the demo renter."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.browser.api_client import bearer, token
from tests.browser.harness import RENTER
from tests.e2e.served import Served


def inquiry(served: Served, listing_id: str, text: str = "Is parking included?") -> str:
    """The demo renter asks about a listing; returns the conversation's id."""
    r = httpx.post(
        f"{served.base_url}/api/v1/conversations",
        json={"listing_id": listing_id, "text": text},
        headers=bearer(token(served, RENTER)),
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def shared_wishlist(served: Served, listing_id: str) -> dict[str, Any]:
    """A new wishlist of the demo renter holding the listing, shared: the API's answer."""
    api, auth = f"{served.base_url}/api/v1", bearer(token(served, RENTER))
    r = httpx.post(
        f"{api}/me/wishlists", json={"name": f"Trip {uuid.uuid4().hex[:4]}"}, headers=auth
    )
    assert r.status_code == 201, r.text
    wishlist_id = r.json()["id"]
    r = httpx.put(f"{api}/me/wishlists/{wishlist_id}/listings/{listing_id}", headers=auth)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{api}/me/wishlists/{wishlist_id}/share", headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())
