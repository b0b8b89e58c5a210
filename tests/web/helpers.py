"""Helpers of the web page tests: sign in through the form, read the csrf field, publish a
listing through the API and wait for the views."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.http.conftest import API, PASSWORD, Api, Auth
from tests.polling import answered

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no csrf field"
    return found.group(1)


def browser_login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Signs in through the web form, as a browser would; returns the session's csrf."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password, "next": "/trips"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/trips").text)


def wait_views(api: Api, position: int | str) -> None:
    """Read-your-writes for pages: the API's own wait for the views, then the page."""
    r = answered(
        lambda: api.client.get(
            f"{API}/search/listings", headers={"X-Rentbook-Min-Position": str(position)}
        ),
        "search caught up",
    )
    assert r.status_code == 200, r.text


def publish_listing(api: Api, owner: Auth, **spec: Any) -> tuple[str, str]:
    """An active listing of `owner`: (id, the approval's position)."""
    from tests.builders import listing_spec

    r = api.client.post(f"{API}/listings", json=listing_spec(**spec), headers=owner.headers)
    assert r.status_code == 201, r.text
    listing_id = r.json()["id"]
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    assert r.status_code == 200, r.text
    admin = api.admin()
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 200, r.text
    return listing_id, r.headers["X-Rentbook-Position"]
