"""The renter's messages, notifications and wishlists pages over HTTP: they render, they
answer 404 for another user's conversation or wishlist, and refuse writes without CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views


def _inquiry(api: Api, listing_id: str, renter_email: str, text: str) -> tuple[str, str]:
    """The renter contacts the host from the listing page: (conversation id, csrf)."""
    token = browser_login(api.client, renter_email)
    r = api.client.post(
        f"/listings/{listing_id}/contact",
        data={"csrf_token": token, "text": text},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/messages/([0-9a-f-]{36})", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1), token


def test_contact_the_host_then_both_see_the_thread_masked_and_can_answer(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, title="Quiet studio")
    wait_views(api, position)
    renter = api.new_user()
    page = api.client.get(f"/listings/{listing_id}")
    assert "Contact the host" not in page.text  # signed out: no form
    cid, _ = _inquiry(api, listing_id, renter.email, "Call me at +1 415 555 0100 please")
    thread = api.client.get(f"/messages/{cid}")
    assert thread.status_code == 200
    assert "Quiet studio" in thread.text and "555 0100" not in thread.text  # masked as the API
    api_text = api.client.get(f"{API}/conversations/{cid}/messages", headers=renter.headers)
    assert api_text.json()["data"][0]["text"].split()[0] in thread.text

    token = browser_login(api.client, owner.email)
    inbox = api.client.get("/messages")
    assert inbox.status_code == 200 and f'href="/messages/{cid}"' in inbox.text
    assert "1 new" in inbox.text
    r = api.client.post(
        f"/messages/{cid}",
        data={"csrf_token": token, "text": "Welcome!"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "Welcome!" in r.text and 'id="conversation-body"' in r.text
    assert "1 new" not in api.client.get("/messages").text  # opening the thread read it
    fragment = api.client.get(f"/messages/{cid}/thread", params={"after": 0})
    assert fragment.status_code == 200 and fragment.text.count('class="message') == 2


def test_another_users_conversation_is_not_found_and_sending_needs_csrf(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.new_user()
    cid, token = _inquiry(api, listing_id, renter.email, "Is it free in May?")
    assert api.client.post(f"/messages/{cid}", data={"text": "no token"}).status_code == 403
    empty = api.client.post(f"/messages/{cid}", data={"csrf_token": token, "text": ""})
    assert empty.status_code == 422 and 'id="e-text"' in empty.text
    stranger = api.register()
    browser_login(api.client, stranger["email"])
    assert api.client.get(f"/messages/{cid}").status_code == 404
    assert api.client.get(f"/messages/{cid}/thread").status_code == 404
    assert f"/messages/{cid}" not in api.client.get("/messages").text


def test_a_trip_links_to_its_booking_conversation(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=20)
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": f"{start}", "end": f"{start + timedelta(days=2)}"},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    wait_views(api, r.headers["X-Rentbook-Position"])
    browser_login(api.client, renter.email)
    assert f'href="/trips/{booking_id}/messages"' in api.client.get(f"/trips/{booking_id}").text
    thread = api.client.get(f"/trips/{booking_id}/messages")
    assert thread.status_code == 200 and "See the booking" in thread.text
    stranger = api.register()
    browser_login(api.client, stranger["email"])
    assert api.client.get(f"/trips/{booking_id}/messages").status_code == 404


def test_the_bell_counts_unread_notifications_and_mark_read_clears_them(api: Api) -> None:
    owner = api.new_user()
    _, position = publish_listing(api, owner)  # listing_approved for the owner
    wait_views(api, position)
    token = browser_login(api.client, owner.email)
    wait = {**owner.headers, "X-Rentbook-Min-Position": str(position)}  # the notifications view
    unread = api.client.get(f"{API}/me/notifications", headers=wait).json()["unread_count"]
    assert unread >= 1
    bell = api.client.get("/notifications/bell", params={"after": position})
    assert bell.status_code == 200 and f'id="bell-count">{unread}<' in bell.text
    page = api.client.get("/notifications")
    assert page.status_code == 200 and "Listing approved" in page.text
    assert api.client.post("/notifications/read", data={"up_to": "999999"}).status_code == 403
    newest = re.search(r'name="up_to" value="(\d+)"', page.text)
    assert newest
    r = api.client.post("/notifications/read", data={"csrf_token": token, "up_to": newest.group(1)})
    assert r.status_code == 200 and "0 unread" in r.text
    assert 'id="bell-count"' not in api.client.get("/notifications/bell").text


def test_preferences_keep_transactional_email_locked(api: Api) -> None:
    user = api.new_user()
    token = browser_login(api.client, user.email)
    page = api.client.get("/notifications/preferences")
    assert page.status_code == 200
    assert re.search(r'name="booking_confirmed:email"[^>]*checked disabled', page.text)
    r = api.client.post("/notifications/preferences", data={"csrf_token": token})  # all off
    assert r.status_code == 200 and "Saved." in r.text
    prefs = api.client.get(f"{API}/me/notification-preferences", headers=user.headers).json()
    by = {(p["kind"], p["channel"]): p["enabled"] for p in prefs["preferences"]}
    assert (
        by[("booking_confirmed", "email")] is True and by[("booking_requested", "email")] is False
    )
    assert api.client.post("/notifications/preferences", data={}).status_code == 403


def test_save_from_search_shows_on_wishlists_and_the_shared_link(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, title="Harbour view flat")
    wait_views(api, position)
    renter = api.new_user()
    token = browser_login(api.client, renter.email)
    results = api.client.get("/", params={"q": "harbour"})
    assert f'action="/listings/{listing_id}/save"' in results.text
    assert api.client.post(f"/listings/{listing_id}/save", data={}).status_code == 403
    r = api.client.post(
        f"/listings/{listing_id}/save",
        data={"csrf_token": token, "title": "Harbour view flat"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and 'aria-pressed="true"' in r.text
    assert 'aria-pressed="true"' in api.client.get("/", params={"q": "harbour"}).text
    lists = api.client.get("/wishlists")
    assert lists.status_code == 200 and "Harbour view flat" in lists.text
    wid = re.search(r'href="/wishlists/([0-9a-f-]{36})"', lists.text)
    assert wid
    shared = api.client.post(
        f"/wishlists/{wid.group(1)}/share", data={"csrf_token": token, "action": "share"}
    )
    assert shared.status_code == 200
    link = re.search(r'value="https?://[^/]+(/wishlists/shared/[^"]+)"', shared.text)
    assert link, shared.text
    api.client.cookies.clear()
    public = api.client.get(link.group(1))
    assert public.status_code == 200 and "Harbour view flat" in public.text
    assert api.client.get("/wishlists/shared/not-a-token").status_code == 404

    stranger = api.register()
    browser_login(api.client, stranger["email"])
    assert api.client.get(f"/wishlists/{wid.group(1)}").status_code == 404
    token = browser_login(api.client, renter.email)
    r = api.client.post(
        f"/listings/{listing_id}/save",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert 'aria-pressed="false"' in r.text  # a second tap takes it out again


def test_sending_shares_the_apis_per_user_message_budget(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.new_user()
    api.app.state.rate_limits = {"messages": (2, 60)}
    cid, token = _inquiry(api, listing_id, renter.email, "First")  # 1 of 2
    ok = api.client.post(f"/messages/{cid}", data={"csrf_token": token, "text": "Second"})
    assert ok.status_code == 200 and "Second" in ok.text
    refused = api.client.post(f"/messages/{cid}", data={"csrf_token": token, "text": "Third"})
    assert refused.status_code == 422 and "wait a moment" in refused.text
    assert 'value="Third"' in refused.text or ">Third</textarea>" in refused.text  # kept
