"""An imported calendar event that overlaps a Rentbook booking is not blocked: besides the
feed's `conflicts`, the owner is told, in-app and by mail (per preferences), once per
overlap, through the notifications view (rule on `CalendarFeed.Synced`); on the embedded
default and on PostgreSQL."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any
from uuid import UUID

import pytest

from domain.notifications import outbox_id
from tests.http.conftest import API, Api, Auth
from tests.http.test_calendar_sync_http import SYNC_AT, ok, owned_listing
from tests.ical_server import FeedServer, fixture
from tests.polling import eventually

# One more external event, far from every booking: the feed changes, its conflict does not.
EXTRA_EVENT = b"""BEGIN:VEVENT
DTSTART;VALUE=DATE:20300801
DTEND;VALUE=DATE:20300803
UID:extra-0001@airbnb.com
SUMMARY:Reserved
END:VEVENT
END:VCALENDAR"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def booked(api: Api) -> tuple[Auth, Auth, str, str]:
    """An owner's listing and a renter's booking of it for 6-8 May 2030 (the Airbnb
    fixture's 5-10 May event overlaps it): (owner, renter, booking id, listing id)."""
    api.clock.set(SYNC_AT)
    owner, listing = owned_listing(api)
    renter = api.new_user()
    body = {"listing_id": listing, "start": "2030-05-06", "end": "2030-05-08", "guests": 2}
    booking = ok(api.client.post(f"{API}/bookings", json=body, headers=renter.headers), 201)
    return owner, renter, str(booking["id"]), listing


def add_feed(api: Api, server: FeedServer, owner: Auth, listing: str) -> str:
    url = server.serve("/airbnb.ics", fixture("airbnb.ics"))
    feeds = f"{API}/listings/{listing}/calendar-feeds"
    body = {"url": url, "name": "Airbnb"}
    feed = ok(api.client.post(feeds, json=body, headers=owner.headers), 201)
    return str(feed["id"])


def sync(api: Api, owner: Auth, listing: str, feed_id: str) -> dict[str, Any]:
    path = f"{API}/listings/{listing}/calendar-feeds/{feed_id}/sync"
    synced: dict[str, Any] = ok(api.client.post(path, headers=owner.headers))
    return synced


def notices(api: Api, auth: Auth, kind: str = "calendar_conflict") -> list[dict[str, Any]]:
    headers = auth.headers | {
        "X-Rentbook-Min-Position": str(api.container.store.current_position())
    }
    r = api.client.get(f"{API}/me/notifications", params={"limit": 50}, headers=headers)
    return [n for n in ok(r)["data"] if n["kind"] == kind]


def mails(api: Api, kind: str) -> list[EmailMessage]:
    found = []
    for path in api.container.settings.mail_root.glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default)
        if parsed["X-Rentbook-Notification"] == kind:
            found.append(parsed)
    return found  # type: ignore[return-value]


def test_the_owner_is_told_of_an_overlap_in_app_and_by_mail_once(
    any_api: Api, server: FeedServer
) -> None:
    api = any_api
    owner, renter, booking_id, listing = booked(api)
    feed_id = add_feed(api, server, owner, listing)
    first = sync(api, owner, listing, feed_id)
    (conflict,) = first["conflicts"]

    (notice,) = notices(api, owner)
    assert notice["read"] is False
    data = notice["data"]
    assert data["feed_id"] == feed_id and data["listing_id"] == listing
    assert data["count"] == 1 and (data["start"], data["end"]) == ("2030-05-05", "2030-05-10")
    (told,) = data["conflicts"]
    assert told["booking_ids"] == [booking_id] and told["uid"] == conflict["uid"]
    assert told["summary"] == "Reserved"
    assert notices(api, renter) == []  # the renter's booking stands; nothing to tell them

    (mail,) = eventually(lambda: mails(api, "calendar_conflict"), "the conflict mail")
    assert mail["To"] == owner.email
    assert mail["Subject"].startswith("Calendar conflict on ")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "overlaps a Rentbook booking" in text and "2030" in text
    assert "overlaps a Rentbook booking" in html and html.lstrip().startswith("<!doctype html>")

    # The feed changes elsewhere (a new, unrelated event): the same overlap is not told again.
    server.serve("/airbnb.ics", fixture("airbnb.ics").replace(b"END:VCALENDAR", EXTRA_EVENT))
    again = sync(api, owner, listing, feed_id)
    assert again["event_count"] == first["event_count"] + 1 and again["conflicts"] == [conflict]
    assert len(notices(api, owner)) == 1


def test_mail_turned_off_is_skipped_and_in_app_muted_is_hidden(
    api: Api, server: FeedServer
) -> None:
    owner, _, _, listing = booked(api)
    off = {"kind": "calendar_conflict", "channel": "email", "enabled": False}
    r = api.client.put(
        f"{API}/me/notification-preferences", json={"preferences": [off]}, headers=owner.headers
    )
    assert r.status_code == 200, r.text  # not transactional: the owner may turn it off
    feed_id = add_feed(api, server, owner, listing)
    assert sync(api, owner, listing, feed_id)["conflicts"]

    (notice,) = notices(api, owner)
    wiring = api.container.notifications
    assert wiring is not None
    box = outbox_id(UUID(notice["id"]))
    settled = ("skipped", "sent")  # "sending" while the job holds its claim
    eventually(
        lambda: (wiring.outbox.state(box) or {}).get("state") in settled, "the outbox row settled"
    )
    assert wiring.outbox.state(box)["state"] == "skipped"  # type: ignore[index]
    assert mails(api, "calendar_conflict") == []

    muted = {"kind": "calendar_conflict", "channel": "in_app", "enabled": False}
    r = api.client.put(
        f"{API}/me/notification-preferences", json={"preferences": [muted]}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert notices(api, owner) == []
