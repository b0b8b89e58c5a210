"""`/me/stream`'s notices feed: dispute changes and reminders reach both parties of the
booking, published reviews reach whoever was reviewed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.dispute import Dispute
from domain.money import Money
from domain.reminders import Reminder
from domain.review import BookingReviews
from projections.live_notice_feed import NoticesFeed
from projections.live_origins import Origin, origin_of

AT = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
RENTER, OWNER, BOOKING, LISTING = uuid4(), uuid4(), uuid4(), uuid4()


class KnownOrigins:
    """Origins as the live tailer learns them from first events."""

    def __init__(self) -> None:
        self.known: dict[UUID, Origin | None] = {BOOKING: Origin(OWNER, RENTER, BOOKING, LISTING)}

    def learn(self, event: Any) -> None:
        if event.originator_version == 1:
            self.known[event.originator_id] = origin_of(event)

    def of(self, stream_id: UUID) -> Origin | None:
        return self.known.get(stream_id)


def told(feed: NoticesFeed, events: list[Any]) -> list[tuple[UUID, str, str]]:
    out = []
    for position, event in enumerate(events, start=1):
        feed.origins.learn(event)
        out += [(i.user_id, i.kind, i.data["type"]) for i in feed.items(event, position)]
    return out


def test_a_dispute_and_its_updates_reach_both_parties() -> None:
    feed = NoticesFeed(KnownOrigins())  # type: ignore[arg-type]
    dispute = Dispute.open(
        booking_id=BOOKING,
        renter_id=RENTER,
        owner_id=OWNER,
        booking_ends_at=AT,
        kind="damage",
        description="A bent wheel.",
        claimed_amount=Money(8_000, "EUR"),
        evidence=[],
        by=OWNER,
        at=AT + timedelta(hours=1),
    )
    seen = told(feed, dispute.collect_events())
    assert {(user, kind) for user, kind, _ in seen} == {(RENTER, "dispute"), (OWNER, "dispute")}


def test_a_reminder_reaches_the_bookings_parties_with_its_kind() -> None:
    feed = NoticesFeed(KnownOrigins())  # type: ignore[arg-type]
    reminder = Reminder.issue(BOOKING, "checkin_tomorrow", AT, AT)
    [event] = reminder.collect_events()
    items = list(feed.items(event, 7))
    assert {i.user_id for i in items} == {RENTER, OWNER}
    assert {(i.kind, i.data["reminder"], i.data["booking_id"]) for i in items} == {
        ("reminder", "checkin_tomorrow", str(BOOKING))
    }


def test_published_reviews_reach_the_reviewed() -> None:
    feed = NoticesFeed(KnownOrigins())  # type: ignore[arg-type]
    reviews = BookingReviews.open(
        booking_id=BOOKING,
        listing_id=LISTING,
        renter_id=RENTER,
        owner_id=OWNER,
        status="completed",
        returned_at=AT,
    )
    reviews.submit(by=RENTER, rating=5, comment="Lovely", category_ratings=None, at=AT)
    reviews.submit(by=OWNER, rating=4, comment="Tidy guest", category_ratings=None, at=AT)
    events = reviews.collect_events()
    assert feed.topics and {e.__class__.__name__ for e in events} > {"Published"}
    seen = told(feed, events)  # only the publication tells anyone
    assert sorted((str(u), k) for u, k, _ in seen) == sorted(
        [(str(RENTER), "review"), (str(OWNER), "review")]
    )
