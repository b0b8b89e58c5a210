"""Read-only loads inside the saved-aggregates scope (a command's answer): the booking the
request saved comes back itself, not a copy; a plain load still copies; outside a scope a
read-only load reads the store like any other."""

from __future__ import annotations

from application.saved_aggregates import answering_from_saves
from domain.booking import Booking
from tests.application.test_saved_aggregates import place
from tests.builders import make_world


def test_a_read_only_get_returns_the_saved_booking_itself_and_a_plain_get_a_copy() -> None:
    w = make_world()
    listing_id = w.active_listing()
    with answering_from_saves():
        booking_id = place(w, listing_id)
        read_only = w.bookings.get(booking_id, viewer=w.renter, read_only=True)
        again = w.bookings.get(booking_id, viewer=w.renter, read_only=True)
        copied = w.bookings.get(booking_id, viewer=w.renter)
    assert isinstance(read_only, Booking) and read_only is again
    assert copied is not read_only
    assert read_only.version == copied.version == w.store.repository.get(booking_id).version
    assert read_only.status == copied.status


def test_a_read_only_load_outside_a_scope_reads_the_store() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id = place(w, listing_id)
    calls: list[object] = []
    original = w.store.repository.get
    w.store.repository.get = (  # type: ignore[method-assign]
        lambda *a, **k: calls.append(a) or original(*a, **k)
    )
    first = w.store.load(booking_id, "booking", read_only=True)
    second = w.store.load(booking_id, "booking", read_only=True)
    assert len(calls) == 2 and first is not second
    assert first.version == second.version


def test_a_read_only_load_of_an_id_this_request_did_not_save_reads_the_store() -> None:
    w = make_world()
    listing_id = w.active_listing()
    earlier = place(w, listing_id)
    with answering_from_saves():
        booking = w.store.load(earlier, "booking", read_only=True)
    assert isinstance(booking, Booking) and booking.id == earlier
