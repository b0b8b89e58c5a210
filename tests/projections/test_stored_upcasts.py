"""Views reading stored events still get decoded events for classes that upcast: only the
mapper brings an older stored state up to the class's current shape."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.application import Notification
from eventsourcing.utils import get_topic

from domain.booking import Booking
from domain.listing import Listing
from projections.stored import to_decode, upcasts


def note(topic: str) -> Notification:
    return Notification(id=1, originator_id=uuid4(), originator_version=1, topic=topic, state=b"{}")


def test_classes_with_upcasts_are_known_by_topic() -> None:
    assert upcasts(get_topic(Listing.Created)) and upcasts(get_topic(Listing.Updated))
    assert not upcasts(get_topic(Listing.Approved))
    assert not upcasts(get_topic(Booking.Placed))
    assert not upcasts("no.such.module:Event")  # read as stored, as before


def test_upcasting_events_are_decoded_even_when_no_view_wants_them() -> None:
    notes = [note(get_topic(Booking.Placed)), note(get_topic(Listing.Created))]
    assert to_decode(notes, []) == {1}
    assert to_decode(notes, [frozenset({get_topic(Booking.Placed)})]) == {0, 1}
