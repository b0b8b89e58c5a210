"""The admin lists page over HTTP: 50 coupons a page with "Next" and "Previous", and (with a
smaller page to keep the set-up short) the disputes queue, the review queue, user search,
ledger accounts and an audit timeline, whose links keep the filters in the URL; a forged
cursor is a 422 page."""

from __future__ import annotations

import html
import re
from typing import Any
from uuid import uuid4

import pytest

from interfaces.web import admin, admin_disputes, admin_ops
from tests.builders import listing_spec
from tests.http.test_disputes_http import EndedFactory, ended  # noqa: F401 - the fixture
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def _walk(api: Api, url: str, pattern: str) -> tuple[list[list[str]], list[str]]:
    """Follows "Next" from `url` to the end: the ids found on each page, and the links."""
    pages: list[list[str]] = []
    links = [url]
    while True:
        r = api.client.get(links[-1])
        assert r.status_code == 200, r.text[:500]
        pages.append(re.findall(pattern, r.text))
        following = _link(r.text, "next")
        if following is None:
            return pages, links
        links.append(following)


def test_coupons_show_fifty_a_page_with_next_and_previous(api: Api) -> None:
    admin_user = api.admin()
    for i in range(53):
        api.clock.advance(seconds=1)  # newest first is then the creation order reversed
        body = {"code": f"PAGE{i:03d}", "kind": "fixed", "amount": {"amount": 100 + i}}
        r = api.client.post(f"{API}/admin/coupons", json=body, headers=admin_user.headers)
        assert r.status_code == 201, r.text
    wait = {"X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]}
    api.client.get(f"{API}/admin/coupons", headers={**admin_user.headers, **wait})
    browser_login(api.client, admin_user.email)
    pages, links = _walk(api, "/admin/coupons", r'data-code="(PAGE\d+)"')
    assert pages == [
        [f"PAGE{i:03d}" for i in range(52, 2, -1)],
        ["PAGE002", "PAGE001", "PAGE000"],
    ]  # newest first
    last = api.client.get(links[-1]).text
    back = _link(last, "prev")
    assert back is not None and _link(api.client.get("/admin/coupons").text, "prev") is None
    assert re.findall(r'data-code="(PAGE\d+)"', api.client.get(back).text) == pages[0]
    forged = api.client.get("/admin/coupons", params={"cursor": "bm9wZQ"})
    assert forged.status_code == 422 and "not one this site made" in forged.text


def test_the_disputes_queue_and_the_ledger_keep_their_filters_across_pages(
    ended: EndedFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_disputes, "PAGE_SIZE", 1)
    monkeypatch.setattr(admin_ops, "PAGE_SIZE", 2)
    first = ended()
    one = first.opened()
    second = ended()
    two = second.opened(second.m.owner)
    api = second.api
    position = str(api.container.store.current_position())
    admin_user = api.login(second.m.admin.email)
    headers = {**admin_user.headers, "X-Rentbook-Min-Position": position}
    api.client.get(f"{API}/admin/disputes", headers=headers)
    browser_login(api.client, admin_user.email)

    pages, links = _walk(api, "/admin/disputes?status=open&assigned=none", r'data-id="([^"]+)"')
    assert pages == [[one["id"]], [two["id"]]]  # oldest first
    assert "status=open" in links[1] and "assigned=none" in links[1] and "cursor=" in links[1]
    back = _link(api.client.get(links[1]).text, "prev")
    assert back is not None and "status=open" in back
    assert re.findall(r'data-id="([^"]+)"', api.client.get(back).text) == [one["id"]]
    overdue, _ = _walk(api, "/admin/disputes?overdue=yes", r'data-id="([^"]+)"')
    assert overdue == [[one["id"]]]  # the first is past its 72 h first-action due time

    accounts: list[dict[str, Any]] = api.client.get(
        f"{API}/admin/ledger/accounts", params={"currency": "EUR", "limit": 100}, headers=headers
    ).json()["data"]
    assert len(accounts) > 2
    pages, links = _walk(api, "/admin/ledger?currency=EUR", r"<tr><td>([^<]+)</td><td>EUR<")
    assert [a for p in pages for a in p] == [a["account"] for a in accounts]
    assert all("currency=EUR" in link for link in links[1:])
    bad = api.client.get("/admin/ledger", params={"currency": "euro"})
    assert bad.status_code == 422 and 'id="e-currency"' in bad.text and 'value="EURO"' in bad.text


def test_the_review_queue_and_user_search_page(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "PAGE_SIZE", 2)
    monkeypatch.setattr(admin_ops, "PAGE_SIZE", 2)
    owner = api.new_user(name="Pager Person Owner")
    submitted = []
    for i in range(3):
        api.clock.advance(seconds=1)
        r = api.client.post(
            f"{API}/listings", json=listing_spec(title=f"Queued {i}"), headers=owner.headers
        )
        listing_id = r.json()["id"]
        r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
        assert r.status_code == 200, r.text
        submitted.append(listing_id)
    names = [api.register(name=f"Pager Person {uuid4().hex[:4]}")["id"] for _ in range(2)]
    position = api.container.store.current_position()
    assert api.container.runner.wait_for(position, ["listings", "profiles"], 10.0)
    admin_user = api.admin()
    browser_login(api.client, admin_user.email)

    pages, _ = _walk(api, "/admin", r'class="card review" data-id="([^"]+)"')
    assert pages == [submitted[:0:-1], submitted[:1]]  # newest first
    pages, links = _walk(api, "/admin/users?q=pager+person", r'<tr data-id="([^"]+)"')
    assert sorted(i for p in pages for i in p) == sorted([owner.id, *names])
    assert [len(p) for p in pages] == [2, 1] and "q=pager+person" in links[1]
    everyone, _ = _walk(api, "/admin/users", r'<tr data-id="([^"]+)"')
    assert {owner.id, *names} <= {i for p in everyone for i in p}
    exact = api.client.get("/admin/users", params={"q": owner.email})
    assert re.findall(r'<tr data-id="([^"]+)"', exact.text) == [owner.id]


def test_an_audit_timeline_pages_by_version(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "PAGE_SIZE", 2)
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    admin_user = api.admin()
    browser_login(api.client, admin_user.email)
    versions = r'<li data-version="(\d+)"'
    pages, links = _walk(api, f"/admin/audit/{listing_id}?version=1", versions)
    flat = [int(v) for p in pages for v in p]
    assert flat == list(range(1, len(flat) + 1)) and len(flat) >= 3
    assert all(len(p) == 2 for p in pages[:-1]) and "version=1" in links[1]
    back = _link(api.client.get(links[1]).text, "prev")
    assert back is not None and re.findall(versions, api.client.get(back).text) == ["1", "2"]
    latest = api.client.get(f"/admin/audit/{listing_id}").text  # the page of the last event
    assert re.findall(versions, latest) == pages[-1] and _link(latest, "next") is None
    forged = api.client.get(f"/admin/audit/{listing_id}", params={"cursor": "eyJhZnRlciI6WzFdfQ"})
    assert forged.status_code == 422
