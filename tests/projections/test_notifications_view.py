"""The notifications view, fed with real events from the use cases (in-memory store,
SQLite views): who hears of what, deterministic ids, one outbox row per notification,
rebuild equals incremental, and reminders issued once by the scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.context import Actor, command_context
from application.reminders import reminder_handlers
from application.scheduler import AllDeadlines, Scheduler
from domain.notifications import notification_id, outbox_id
from infrastructure.views_db import create_views_engine
from projections.reminder_deadlines import ViewReminderSource
from tests.builders import NOW
from tests.notification_builders import NotifyWorld, notify_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def nw(engine: Engine) -> NotifyWorld:
    return notify_world(engine)


def test_a_request_notifies_the_owner_and_its_approval_the_renter(nw: NotifyWorld) -> None:
    booking_id = nw.request()
    nw.world.bookings.approve(nw.owner, booking_id, NOW + timedelta(hours=1))

    assert nw.kinds(nw.owner.id) == ["listing_approved", "booking_requested"]
    assert nw.kinds(nw.renter.id) == ["booking_approved"]
    request = next(r for r in nw.rows() if r["kind"] == "booking_requested")
    assert request["data"]["booking_id"] == str(booking_id)
    assert request["data"]["listing_title"] and request["data"]["currency"] == "EUR"
    assert request["data"]["timezone"] == "Europe/Lisbon"


def test_confirmation_notifies_both_and_a_cancellation_only_the_other_party(
    nw: NotifyWorld,
) -> None:
    booking_id = nw.instant()
    nw.confirm(booking_id)
    nw.world.bookings.cancel(nw.renter, booking_id, "plans changed", NOW + timedelta(hours=2))

    assert nw.kinds(nw.renter.id) == ["booking_confirmed"]
    assert nw.kinds(nw.owner.id)[-2:] == ["booking_confirmed", "booking_cancelled"]
    cancelled = next(r for r in nw.rows() if r["kind"] == "booking_cancelled")
    assert cancelled["data"]["by_role"] == "renter"
    assert cancelled["data"]["reason"] == "plans changed"


def test_a_declined_request_and_a_rejected_listing_say_why(nw: NotifyWorld) -> None:
    booking_id = nw.request()
    nw.world.bookings.decline(nw.owner, booking_id, "not those dates", NOW + timedelta(hours=1))
    from tests.builders import listing_spec

    listing_id, _ = nw.world.listings.create(nw.owner, listing_spec(), NOW)
    nw.world.listings.submit(nw.owner, listing_id, NOW)
    nw.world.listings.reject(nw.world.admin, listing_id, "blurry photos", NOW)

    by_kind = {r["kind"]: r for r in nw.rows()}
    assert by_kind["booking_declined"]["recipient_id"] == nw.renter.id
    assert by_kind["booking_declined"]["data"]["reason"] == "not those dates"
    assert by_kind["listing_rejected"]["recipient_id"] == nw.owner.id
    assert by_kind["listing_rejected"]["data"]["reason"] == "blurry photos"


def test_ids_are_derived_from_event_recipient_and_kind(nw: NotifyWorld) -> None:
    booking_id = nw.request()
    row = next(r for r in nw.rows() if r["kind"] == "booking_requested")
    assert row["id"] == notification_id(f"{booking_id}:1", nw.owner.id, "booking_requested")


def test_every_notification_has_one_outbox_row_with_address_and_locale(nw: NotifyWorld) -> None:
    booking_id = nw.instant()
    nw.confirm(booking_id)
    notes, outbox = nw.rows(), nw.rows("outbox")

    assert sorted(o["id"] for o in outbox) == sorted(outbox_id(n["id"]) for n in notes)
    assert all(o["to_address"] for o in outbox)  # parties known only from earlier events too
    renter_mail = next(o for o in outbox if o["recipient_id"] == nw.renter.id)
    assert renter_mail["to_address"].endswith("@example.com")
    assert renter_mail["name"] == "Rita Renter" and renter_mail["locale"] == "en"


def test_the_locale_follows_the_first_language_of_the_profile(nw: NotifyWorld) -> None:
    user = nw.world.store.load(nw.renter.id, "user")
    user.update_profile(languages=["pt", "en"], at=NOW)
    nw.world.store.record(user)
    nw.confirm(nw.instant())
    renter_mail = next(o for o in nw.rows("outbox") if o["recipient_id"] == nw.renter.id)
    assert renter_mail["locale"] == "pt"


def test_a_rebuild_writes_the_same_rows(nw: NotifyWorld) -> None:
    first = nw.request()
    nw.world.bookings.approve(nw.owner, first, NOW + timedelta(hours=1))
    nw.confirm(first, NOW + timedelta(hours=2))
    nw.world.bookings.cancel(nw.owner, first, "flooded", NOW + timedelta(hours=3))
    before = (nw.rows(), nw.rows("outbox"))

    nw.runner.rebuild("notifications")

    assert (nw.rows(), nw.rows("outbox")) == before
    assert len(before[0]) >= 5


# -- reminders ---------------------------------------------------------------------------


def scheduler(nw: NotifyWorld) -> Scheduler:
    source = ViewReminderSource(
        nw.engine, nw.runner.tables("deadlines"), nw.runner.tables("notifications")
    )
    return Scheduler(
        nw.world.bookings, AllDeadlines(source), handlers=reminder_handlers(nw.world.bookings)
    )


def test_an_unpaid_hold_is_reminded_once_five_minutes_before_it_expires(nw: NotifyWorld) -> None:
    nw.instant()  # a 15-minute hold
    s = scheduler(nw)
    nw.runner.catch_up()
    assert s.run_due(NOW + timedelta(minutes=9)) == 0  # not yet
    assert s.run_due(NOW + timedelta(minutes=11)) == 1
    assert s.run_due(NOW + timedelta(minutes=12)) == 0  # the view has not caught up: refused
    nw.runner.catch_up()
    assert s.run_due(NOW + timedelta(minutes=13)) == 0  # issued: no longer due
    assert nw.kinds(nw.renter.id) == ["hold_expiring"]


def test_a_request_awaiting_the_owner_and_a_check_in_tomorrow_are_reminded(
    nw: NotifyWorld,
) -> None:
    booking_id = nw.request(start="2026-06-03", end="2026-06-05")
    s = scheduler(nw)
    nw.runner.catch_up()
    assert s.run_due(NOW + timedelta(hours=13)) == 1  # the request expires after 24 h
    nw.world.bookings.approve(nw.owner, booking_id, NOW + timedelta(hours=14))
    nw.confirm(booking_id, NOW + timedelta(hours=14, minutes=5))
    nw.runner.catch_up()
    # check-in on 2026-06-03 in Lisbon; the day before it falls due
    assert s.run_due(NOW + timedelta(days=1, hours=12)) == 1
    assert nw.kinds(nw.owner.id)[-3:] == [
        "request_awaiting_answer",
        "booking_confirmed",
        "checkin_tomorrow",
    ]
    assert nw.kinds(nw.renter.id)[-1] == "checkin_tomorrow"


def test_two_schedulers_racing_issue_a_reminder_once(nw: NotifyWorld) -> None:
    nw.instant()
    nw.runner.catch_up()
    first, second = scheduler(nw), scheduler(nw)
    at = NOW + timedelta(minutes=11)
    due = first.source.due(at, 10)
    assert [d.kind for d in due] == ["hold_expiring"]
    with command_context(Actor.system()):
        assert first.handlers["hold_expiring"](due[0], at) > 0
        assert second.handlers["hold_expiring"](due[0], at) == 0
    assert nw.kinds(nw.renter.id) == ["hold_expiring"]


def test_the_stay_end_asks_both_for_reviews_and_publication_notifies_each_reviewee(
    nw: NotifyWorld,
) -> None:
    from application.reviews import Reviews
    from tests.review_builders import returned_booking

    booking_id, ended = returned_booking(nw.world, nw.world.active_listing())
    s = scheduler(nw)
    nw.runner.catch_up()
    assert s.run_due(ended + timedelta(hours=1)) == 1
    reviews = Reviews(nw.world.store, nw.world.bookings)
    for who, rating, hours in ((nw.renter, 4, 2), (nw.owner, 5, 3)):
        reviews.submit(
            who, booking_id, rating=rating, comment="fine", category_ratings=None,
            at=ended + timedelta(hours=hours),
        )  # fmt: skip

    assert nw.kinds(nw.renter.id) == ["booking_confirmed", "review_request", "review_published"]
    assert nw.kinds(nw.owner.id)[-2:] == ["review_request", "review_published"]
    published = {r["recipient_id"]: r["data"] for r in nw.rows() if r["kind"] == "review_published"}
    assert published[nw.renter.id]["rating"] == 5 and published[nw.owner.id]["rating"] == 4
