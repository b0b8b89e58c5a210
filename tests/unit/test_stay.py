"""Check-in / check-out rules on the Booking, Given/When/Then: who (sides), how often (once
each), when (the booking's window ± the listing's grace hours) and what it moves (the first
check-in starts a confirmed booking, the first check-out ends a stay and opens the inspection
window from that instant)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import booking as b
from domain import stay
from domain.booking import Booking
from domain.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
START, END = T0 + timedelta(days=30), T0 + timedelta(days=32)
GRACE = 24
OWNER, RENTER = uuid.uuid4(), uuid.uuid4()
SOFA = [{"name": "Sofa", "status": "ok", "note": "", "photo_ids": []}]


def confirmed(*, collect: bool = True) -> Booking:
    booking = Booking.place(
        instant=True,
        expires_at=T0 + timedelta(minutes=15),
        id=uuid.uuid4(),
        listing_id=uuid.uuid4(),
        owner_id=OWNER,
        renter_id=RENTER,
        unit="night",
        start="2026-01-31",
        end="2026-02-02",
        timezone="UTC",
        quantity=1,
        guests=1,
        message="",
        quote={"total": 100, "currency": "EUR"},
        policy={"name": "flexible", "schedule": []},
        deposit=None,
        start_at=START,
        end_at=END,
        by=RENTER,
        role="renter",
        at=T0,
    )
    booking.confirm(uuid.uuid4(), T0)
    if collect:
        booking.collect_events()
    return booking


def events(booking: Booking) -> list[str]:
    return [type(e).__name__ for e in booking.collect_events()]


def check_in(booking: Booking, side: str, at: datetime, report: Any = None) -> None:
    booking.check_in(RENTER if side == "renter" else OWNER, side, report, GRACE, at)


def check_out(booking: Booking, side: str, at: datetime, report: Any = None) -> None:
    booking.check_out(RENTER if side == "renter" else OWNER, side, report, GRACE, at)


# -- check-in --------------------------------------------------------------------------------


def test_the_first_check_in_within_the_grace_starts_a_confirmed_booking_early() -> None:
    # Given a confirmed booking
    booking = confirmed()
    # When the renter checks in 23 hours before the start, with a report
    report = stay.validate_report(SOFA)
    check_in(booking, "renter", START - timedelta(hours=23), report)
    # Then the check-in is recorded and the booking is in progress
    assert events(booking) == ["CheckedIn", "Started"]
    assert booking.status == b.IN_PROGRESS and booking.status_reason == "renter checked in"
    assert booking.check_ins["renter"]["report"] == report
    assert booking.check_ins["renter"]["at"] == (START - timedelta(hours=23)).isoformat()


def test_the_second_side_checking_in_moves_nothing() -> None:
    booking = confirmed()
    check_in(booking, "renter", START)
    booking.collect_events()
    check_in(booking, "owner", START + timedelta(hours=1))
    assert events(booking) == ["CheckedIn"]
    assert booking.status == b.IN_PROGRESS and set(booking.check_ins) == {"renter", "owner"}


def test_a_side_checks_in_once() -> None:
    booking = confirmed()
    check_in(booking, "renter", START)
    booking.collect_events()
    with pytest.raises(ConflictError) as error:
        check_in(booking, "renter", START + timedelta(hours=1))
    assert error.value.code == "already_check_in" and events(booking) == []


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (START - timedelta(hours=GRACE, seconds=1), "check_in_not_open"),
        (END, "check_in_closed"),
    ],
)
def test_check_in_outside_start_minus_grace_until_end_is_422(at: datetime, code: str) -> None:
    booking = confirmed()
    with pytest.raises(RuleViolation) as error:
        check_in(booking, "renter", at)
    assert error.value.code == code and events(booking) == []
    assert booking.status == b.CONFIRMED


def test_check_in_exactly_at_start_minus_grace_is_accepted() -> None:
    booking = confirmed()
    check_in(booking, "owner", START - timedelta(hours=GRACE))
    assert booking.status == b.IN_PROGRESS


def test_a_booking_that_is_not_paid_or_is_over_cannot_be_checked_in() -> None:
    booking = confirmed()
    booking.cancel(RENTER, "renter", "changed plans", {"amount": 0, "currency": "EUR"}, T0)
    booking.collect_events()
    with pytest.raises(InvalidTransition):
        check_in(booking, "renter", START)
    assert events(booking) == []


# -- check-out -------------------------------------------------------------------------------


def test_the_first_check_out_ends_the_stay_and_opens_the_inspection_window_from_then() -> None:
    booking = confirmed()
    check_in(booking, "renter", START)
    booking.collect_events()
    left = END - timedelta(hours=5)
    check_out(booking, "renter", left, stay.validate_report(SOFA))
    assert events(booking) == ["CheckedOut", "Ended"]
    assert booking.status == b.AWAITING_RETURN_INSPECTION
    assert booking.deadline("inspection_ends_at") == left + b.INSPECTION_WINDOW
    assert booking.inspection_opened_at == left


def test_the_owner_checks_out_after_the_renter_with_the_return_report() -> None:
    booking = confirmed()
    check_in(booking, "renter", START)
    check_out(booking, "renter", END - timedelta(hours=1))
    booking.collect_events()
    damaged = [{"name": "Sofa", "status": "damaged", "note": "Burn mark", "photo_ids": []}]
    check_out(booking, "owner", END + timedelta(hours=2), stay.validate_report(damaged))
    assert events(booking) == ["CheckedOut"]
    assert booking.status == b.AWAITING_RETURN_INSPECTION
    assert booking.inspection_opened_at == END - timedelta(hours=1)  # the first check-out
    assert stay.report_item_names(booking.reports()) == {"sofa"}


def test_a_check_out_of_a_confirmed_booking_past_its_start_starts_and_ends_it() -> None:
    booking = confirmed()
    check_out(booking, "renter", START + timedelta(hours=3))
    assert events(booking) == ["CheckedOut", "Started", "Ended"]
    assert booking.status == b.AWAITING_RETURN_INSPECTION


def test_a_check_out_after_the_scheduler_ended_the_stay_keeps_the_end_as_inspection_start() -> None:
    booking = confirmed()
    booking.begin(uuid.uuid4(), START)
    booking.finish(uuid.uuid4(), END)
    booking.collect_events()
    check_out(booking, "renter", END + timedelta(hours=3))
    assert events(booking) == ["CheckedOut"]
    assert booking.inspection_opened_at == END
    assert booking.deadline("inspection_ends_at") == END + b.INSPECTION_WINDOW


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (START - timedelta(seconds=1), "check_out_not_open"),
        (END + timedelta(hours=GRACE), "check_out_closed"),
    ],
)
def test_check_out_outside_start_until_end_plus_grace_is_422(at: datetime, code: str) -> None:
    booking = confirmed()
    check_in(booking, "renter", START - timedelta(hours=1))
    booking.collect_events()
    with pytest.raises(RuleViolation) as error:
        check_out(booking, "renter", at)
    assert error.value.code == code and events(booking) == []


def test_a_side_checks_out_once() -> None:
    booking = confirmed()
    check_out(booking, "owner", START + timedelta(hours=1))
    booking.collect_events()
    with pytest.raises(ConflictError) as error:
        check_out(booking, "owner", START + timedelta(hours=2))
    assert error.value.code == "already_check_out" and events(booking) == []


def test_a_cancelled_booking_cannot_be_checked_out() -> None:
    booking = confirmed()
    booking.cancel(OWNER, "owner", "flooded", {"amount": 100, "currency": "EUR"}, T0)
    with pytest.raises(InvalidTransition):
        check_out(booking, "renter", START + timedelta(hours=1))


# -- sides and reports -----------------------------------------------------------------------


def test_the_side_is_the_renter_or_the_owner_admins_are_403_others_404() -> None:
    ids = {"renter_id": RENTER, "owner_id": OWNER, "booking_id": uuid.uuid4()}
    assert stay.side_of(RENTER, "user", **ids) == "renter"
    assert stay.side_of(OWNER, "user", **ids) == "owner"
    with pytest.raises(PermissionDenied):
        stay.side_of(uuid.uuid4(), "admin", **ids)
    with pytest.raises(NotFoundError):
        stay.side_of(uuid.uuid4(), "user", **ids)


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([{"name": "Sofa", "status": "broken"}], "bad_report"),
        ([{"name": " ", "status": "ok"}], "bad_report"),
        (
            [{"name": "Sofa", "status": "ok"}, {"name": "sofa", "status": "ok"}],
            "duplicate_report_item",
        ),
        ([{"name": "Sofa", "status": "ok", "photo_ids": ["nope"]}], "bad_report"),
        ([{"name": "Sofa", "status": "ok", "extra": 1}], "bad_report"),
        ([{"name": "Sofa", "status": "ok", "note": "a\x00b"}], "bad_report"),
        ([{"name": "x", "status": "ok"}] * (stay.MAX_ITEMS + 1), "bad_report"),
    ],
)
def test_bad_reports_are_refused_with_the_reason(items: Any, code: str) -> None:
    with pytest.raises(RuleViolation) as error:
        stay.validate_report(items)
    assert error.value.code == code


def test_a_report_is_normalised_and_its_photos_listed() -> None:
    photo = uuid.uuid4()
    report = stay.validate_report([{"name": " Sofa ", "status": "damaged", "photo_ids": [photo]}])
    assert report == {
        "items": [{"name": "Sofa", "status": "damaged", "note": "", "photo_ids": [str(photo)]}]
    }
    assert stay.report_photo_ids(report) == [photo]
    assert stay.validate_report(None) is None


def test_cited_items_must_be_items_of_the_reports() -> None:
    known = stay.report_item_names([stay.validate_report(SOFA), None])
    assert stay.validate_cited_items(["sofa", "Sofa"], known) == ["sofa"]
    with pytest.raises(RuleViolation) as error:
        stay.validate_cited_items(["Lamp"], known)
    assert error.value.code == "unknown_report_item"


def test_replaying_check_in_and_out_events_gives_the_same_state() -> None:
    booking = confirmed(collect=False)
    check_in(booking, "renter", START, stay.validate_report(SOFA))
    check_out(booking, "owner", END - timedelta(hours=2))
    replayed = None
    for event in booking.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None and replayed.check_ins == booking.check_ins
    assert replayed.check_outs == booking.check_outs and replayed.status == booking.status
