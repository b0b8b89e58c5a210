"""The admin's audit timelines show every event with its actor, the reason given and the
correlation id (the request that caused it), as the admin API records them; a paid booking's
payment stream opens from its payment id."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from tests.http.bookings_support import market_factory
from tests.web.helpers import API, Api, browser_login


def _events(api: Api, stream_id: str, admin_headers: dict[str, str]) -> list[dict[str, Any]]:
    r = api.client.get(
        f"{API}/admin/streams/{stream_id}/events", params={"limit": 100}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def _items(page: str) -> dict[int, str]:
    """The timeline's entries by version, as text."""
    found = re.findall(r'<li data-version="(\d+)"[^>]*>(.*?)</li>', page, re.S)
    return {int(v): html.unescape(body) for v, body in found}


def test_a_bookings_timeline_shows_actor_reason_and_correlation(api: Api) -> None:
    m = market_factory(api)()
    request = f"audit-{uuid.uuid4().hex[:12]}"
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": m.listing_id, "start": m.day(30), "end": m.day(32)},
        headers={**m.renter.headers, "X-Request-Id": f"{request}-book"},
    )
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    r = api.client.post(
        f"{API}/bookings/{booking_id}/cancel",
        json={"reason": "Our plans changed"},
        headers={**m.renter.headers, "X-Request-Id": f"{request}-cancel"},
    )
    assert r.status_code == 200, r.text

    browser_login(api.client, m.admin.email)
    page = api.client.get(f"/admin/bookings/{booking_id}")
    assert page.status_code == 200 and "Booking audit" in page.text
    items = _items(page.text)
    recorded = _events(api, booking_id, m.admin.headers)
    assert sorted(items) == [e["version"] for e in recorded]
    for event in recorded:
        item = items[event["version"]]
        assert event["type"] in item
        assert f"by {event['actor_role'] or 'system'} {event['actor_id'] or 'system'}" in item
        if event["correlation_id"]:
            assert f"correlation {event['correlation_id']}" in item
    placed, cancelled = items[1], items[max(items)]
    assert f"by user {m.renter.id}" in placed and f"correlation {request}-book" in placed
    assert f"correlation {request}-cancel" in cancelled and "Why: Our plans changed" in cancelled


def test_a_paid_bookings_payment_stream_has_a_timeline(api: Api) -> None:
    m = market_factory(api)()
    booking = m.paid()
    payment_id = booking["payment_id"]
    assert payment_id, booking
    browser_login(api.client, m.admin.email)
    r = api.client.get("/admin/audit", params={"id": payment_id}, follow_redirects=True)
    assert r.status_code == 200 and "Payment audit" in r.text
    assert str(r.url).endswith(f"/admin/audit/{payment_id}")
    items = _items(r.text)
    recorded = _events(api, payment_id, m.admin.headers)
    assert len(recorded) >= 2 and sorted(items) == [e["version"] for e in recorded]
    assert any(e["correlation_id"] for e in recorded)  # the renter's payment request at least
    for event in recorded:
        assert event["type"] in items[event["version"]]
        if event["correlation_id"]:
            assert f"correlation {event['correlation_id']}" in items[event["version"]]
    assert f'id="state-version">{recorded[-1]["version"]}<' in r.text  # the state now
    first = api.client.get(f"/admin/audit/{payment_id}", params={"version": "1"})
    assert first.status_code == 200 and 'id="state-version">1<' in first.text
