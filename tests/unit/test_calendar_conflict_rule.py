"""Calendar conflicts told to the owner: the feed records only the overlaps its previous sync
had not found (`new_conflicts`), the rule turns them into one `calendar_conflict` for the
booked listing's owner, and the mail template renders its text and HTML parts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from application.notification_mail import OutboxMail
from domain.calendar_feed import CalendarFeed
from infrastructure.mail_render import JinjaMailRenderer
from interfaces.web.notifications import link_of
from projections import notification_rules as rules
from projections.notification_rules import Facts

AT = datetime(2030, 5, 1, 9, tzinfo=UTC)
OWNER, RENTER, LISTING, BOOKING = (uuid.uuid4() for _ in range(4))


def conflict(uid: str = "a@airbnb.com", *bookings: uuid.UUID) -> dict[str, Any]:
    return {
        "uid": uid,
        "summary": "Reserved",
        "start": "2030-05-05",
        "end": "2030-05-10",
        "booking_ids": [str(b) for b in bookings or (BOOKING,)],
        "first_conflict": "2030-05-06",
    }


def synced(feed: Any, conflicts: list[dict[str, Any]], etag: str) -> Any:
    feed.synced(
        etag=etag,
        last_modified=None,
        blocks={},
        conflicts=conflicts,
        event_count=len(conflicts) + 1,
        at=AT,
        next_fetch_at=AT + timedelta(minutes=30),
    )
    (event,) = feed.collect_events()
    return event


def test_the_feed_records_only_overlaps_it_had_not_found_before() -> None:
    feed = CalendarFeed.add(LISTING, OWNER, "https://example.com/a.ics", "Airbnb", AT)
    feed.collect_events()
    assert synced(feed, [conflict()], '"1"').new_conflicts == [conflict()]
    # The feed changed elsewhere: the same overlap is not new.
    assert synced(feed, [conflict()], '"2"').new_conflicts == []
    # A second booking under the same event, and another event: both new.
    other = uuid.uuid4()
    wider, second = conflict("a@airbnb.com", BOOKING, other), conflict("b@airbnb.com")
    assert synced(feed, [wider, second], '"3"').new_conflicts == [wider, second]
    # Gone, then back: told again.
    assert synced(feed, [], '"4"').new_conflicts == []
    assert synced(feed, [second], '"5"').new_conflicts == [second]


def facts() -> Facts:
    booking = {
        "id": BOOKING,
        "listing_id": LISTING,
        "renter_id": RENTER,
        "owner_id": OWNER,
        "listing_title": "Loft",
        "start": "2030-05-06",
        "end": "2030-05-08",
        "start_at": "2030-05-06T14:00:00+00:00",
        "timezone": "Europe/Lisbon",
        "total": 25_000,
        "currency": "EUR",
    }
    return Facts(bookings={BOOKING: booking})


def test_new_conflicts_reach_the_owner_once_with_the_overlaps() -> None:
    feed_id = uuid.uuid4()
    event = SimpleNamespace(originator_id=feed_id, new_conflicts=[conflict(), conflict("b")])
    (draft,) = rules.calendar_conflict(event, facts())
    assert (draft.recipient, draft.kind) == (OWNER, "calendar_conflict")
    assert draft.data["feed_id"] == str(feed_id) and draft.data["listing_id"] == str(LISTING)
    assert draft.data["listing_title"] == "Loft" and draft.data["count"] == 2
    assert [c["uid"] for c in draft.data["conflicts"]] == ["a@airbnb.com", "b"]
    assert "first_conflict" not in draft.data["conflicts"][0]
    # On the web, the notice leads to the host's calendar page, where the feeds are.
    assert link_of(draft.data) == f"/host/listings/{LISTING}/calendar"


def test_no_new_conflicts_or_unknown_bookings_notify_nobody() -> None:
    feed_id = uuid.uuid4()
    assert rules.calendar_conflict(SimpleNamespace(originator_id=feed_id), facts()) == []
    nothing_new = SimpleNamespace(originator_id=feed_id, new_conflicts=[])
    assert rules.calendar_conflict(nothing_new, facts()) == []
    unknown = SimpleNamespace(originator_id=feed_id, new_conflicts=[conflict()])
    assert rules.calendar_conflict(unknown, Facts()) == []


def test_the_mail_names_the_listing_the_event_and_its_dates() -> None:
    event = SimpleNamespace(originator_id=uuid.uuid4(), new_conflicts=[conflict(), conflict("b")])
    (draft,) = rules.calendar_conflict(event, facts())
    mail = OutboxMail(uuid.uuid4(), OWNER, draft.kind, "o@example.com", "Ana", "en", draft.data)
    rendered = JinjaMailRenderer().render(mail)
    assert rendered.subject == "Calendar conflict on Loft"
    assert "Hello Ana," in rendered.text
    dates = "May 5, 2030 \u2013 May 10, 2030"
    assert f"(Reserved, {dates}) overlaps a Rentbook booking" in rendered.text
    assert "1 more overlapping event too." in rendered.text
    assert (
        rendered.html.startswith("<!doctype html>")
        and "overlaps a Rentbook booking" in rendered.html
    )
