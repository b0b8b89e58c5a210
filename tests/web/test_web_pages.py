"""The web app's pages over HTTP: first paint without JavaScript, escaping, CSRF on every
unsafe request, forms that keep input, and the API's authorization (404 for others' trips)."""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from interfaces.web import public
from tests.web.helpers import (
    API,
    Api,
    browser_login,
    csrf_of,
    publish_listing,
    wait_views,
)


def test_home_renders_search_results_server_side(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, title="Loft over the canal")
    wait_views(api, position)
    r = api.client.get("/", params={"q": "canal"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert f'href="/listings/{listing_id}"' in r.text
    assert "Loft over the canal" in r.text


def test_what_a_visitor_typed_is_escaped(api: Api) -> None:
    r = api.client.get("/", params={"q": '<script>alert("x")</script>'})
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert" in r.text


def test_listing_page_shows_the_quote_in_the_listings_currency(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, title="Cabin in the pines")
    wait_views(api, position)
    start = api.clock.now().date() + timedelta(days=30)
    end = start + timedelta(days=3)
    r = api.client.get(
        f"/listings/{listing_id}", params={"start": start.isoformat(), "end": end.isoformat()}
    )
    assert r.status_code == 200, r.text[r.text.find("<main") :]
    quote = api.client.post(
        f"{API}/listings/{listing_id}/quote",
        json={"start": start.isoformat(), "end": end.isoformat()},
    ).json()["quote"]
    total = quote["total"]
    assert f"{total // 100:,}.{total % 100:02d}" in r.text
    assert 'id="quote-total"' in r.text


def test_unsafe_requests_without_the_csrf_token_are_refused(api: Api) -> None:
    r = api.client.post("/login", data={"email": "a@example.com", "password": "x" * 12})
    assert r.status_code == 403
    user = api.register()
    token = browser_login(api.client, user["email"])
    assert api.client.post("/logout", data={}).status_code == 403
    wrong = api.client.post("/logout", data={"csrf_token": token + "x"})
    assert wrong.status_code == 403
    ok = api.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303


def test_a_form_keeps_what_was_typed_and_names_the_problem_next_to_the_field(api: Api) -> None:
    token = csrf_of(api.client.get("/signup").text)
    r = api.client.post(
        "/signup",
        data={"csrf_token": token, "name": "Ada", "email": "ada@example.com", "password": "short"},
    )
    assert r.status_code == 422
    assert 'value="Ada"' in r.text and 'value="ada@example.com"' in r.text
    assert 'id="e-password"' in r.text and 'aria-describedby="e-password"' in r.text


def test_another_users_trip_is_not_found(api: Api) -> None:
    owner = api.new_user()
    listing_id, _ = publish_listing(api, owner)
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=20)
    r = api.client.post(
        f"{API}/bookings",
        json={
            "listing_id": listing_id,
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
        },
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    stranger = api.register()
    browser_login(api.client, stranger["email"])
    assert api.client.get(f"/trips/{booking_id}").status_code == 404
    browser_login(api.client, renter.email)
    assert api.client.get(f"/trips/{booking_id}").status_code == 200


def test_signed_in_pages_send_anonymous_visitors_to_sign_in(api: Api) -> None:
    r = api.client.get("/trips", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Ftrips"


def test_booking_while_signed_out_leads_to_sign_in_and_back_to_the_same_dates(
    api: Api,
) -> None:
    owner = api.new_user()
    listing_id, _ = publish_listing(api, owner)
    token = csrf_of(api.client.get("/login").text)
    r = api.client.post(
        "/trips",
        data={
            "csrf_token": token,
            "listing_id": listing_id,
            "start": "2030-01-02",
            "end": "2030-01-05",
            "guests": "2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Flistings%2F" + listing_id)
    assert "start%3D2030-01-02" in r.headers["location"]


def test_an_hourly_listing_quotes_local_times_in_its_time_zone(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, category="court")
    wait_views(api, position)
    day = api.clock.now().date() + timedelta(days=9)
    r = api.client.get(
        f"/listings/{listing_id}",
        params={"start": f"{day}T10:00", "end": f"{day}T12:00"},
    )
    assert r.status_code == 200, r.text
    assert 'type="datetime-local"' in r.text
    lisbon = ZoneInfo("Europe/Lisbon")
    start = datetime.combine(day, time(10), lisbon).isoformat()
    end = datetime.combine(day, time(12), lisbon).isoformat()
    quote = api.client.post(f"{API}/listings/{listing_id}/quote", json={"start": start, "end": end})
    assert quote.status_code == 200, quote.text
    total = quote.json()["quote"]["total"]
    assert 'id="quote-total"' in r.text, r.text[r.text.find('id="quote"') :][:400]
    assert f"€{total // 100:,}.{total % 100:02d}" in r.text


def test_results_are_paged_with_the_query_kept(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    owner = api.new_user()
    publish_listing(api, owner, title="Harbour loft one")
    _, position = publish_listing(api, owner, title="Harbour loft two")
    wait_views(api, position)
    first = api.client.get("/", params={"q": "harbour", "category": "stay"})
    assert first.text.count('class="hit"') == 1
    found = re.search(r'href="(/\?[^"]*offset=1[^"]*)">Next results', first.text)
    assert found, "no link to the next results"
    second = api.client.get(html.unescape(found.group(1)))
    assert second.text.count('class="hit"') == 1
    assert "category=stay" in found.group(1) and "First results" in second.text
    titles = re.findall(r"Harbour loft (one|two)", first.text + second.text)
    assert sorted(set(titles)) == ["one", "two"]
