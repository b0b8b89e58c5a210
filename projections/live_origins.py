"""Who a stream belongs to, from its first event: a booking's renter and owner, a payment's
booking, a listing's owner, a calendar's listing and unit. Later events do not repeat it, so
live routing looks it up here; the first event is immutable, so a bounded cache is safe."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.booking import Booking as _Booking
from domain.calendar import ListingCalendar as _ListingCalendar
from domain.dispute import Dispute as _Dispute
from domain.listing import Listing as _Listing
from domain.payment import Payment as _Payment
from projections.event_log import EventLog

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
ListingCalendar: Any = _ListingCalendar
Dispute: Any = _Dispute
Listing: Any = _Listing
Payment: Any = _Payment
HOLD_SCAN_LIMIT = 500  # calendar events searched backwards for a released hold's keys


@dataclass(frozen=True)
class Origin:
    owner_id: UUID | None = None
    renter_id: UUID | None = None
    booking_id: UUID | None = None
    listing_id: UUID | None = None
    unit: str | None = None


def origin_of(first: Any) -> Origin | None:
    """The origin a stream's first event tells, or None for streams live updates ignore."""
    if isinstance(first, Booking.Placed):
        return Origin(first.owner_id, first.renter_id, first.originator_id, first.listing_id)
    if isinstance(first, Payment.Created):
        return Origin(first.owner_id, first.renter_id, first.booking_id)
    if isinstance(first, Listing.Created):
        return Origin(owner_id=first.owner_id, listing_id=first.originator_id)
    if isinstance(first, Dispute.Opened):
        return Origin(first.owner_id, first.renter_id, first.booking_id)
    if isinstance(first, ListingCalendar.Opened):
        return Origin(listing_id=first.listing_id, unit=first.unit)
    return None


class Origins:
    def __init__(self, log: EventLog, size: int = 50_000) -> None:
        self.log = log
        self.size = size
        self._cache: OrderedDict[UUID, Origin | None] = OrderedDict()
        self._holds: OrderedDict[tuple[UUID, str], list[int]] = OrderedDict()
        self._lock = threading.Lock()

    def learn(self, event: Any) -> None:
        """Remembers what a first event (or a hold) tells, saving a read later."""
        if event.originator_version == 1:
            self._put(self._cache, event.originator_id, origin_of(event))
        if isinstance(event, ListingCalendar.HoldPlaced):
            self._put(self._holds, (event.originator_id, str(event.booking_id)), event.keys)

    def of(self, stream_id: UUID) -> Origin | None:
        with self._lock:
            if stream_id in self._cache:
                self._cache.move_to_end(stream_id)
                return self._cache[stream_id]
        stored = self.log.recorder.select_events(stream_id, lte=1)
        origin = origin_of(self.log.mapper.to_domain_event(stored[0])) if stored else None
        self._put(self._cache, stream_id, origin)
        return origin

    def hold_keys(self, calendar_id: UUID, booking_id: UUID, event: Any) -> list[int] | None:
        """The keys a booking's hold took (for releases and confirmations, whose events
        do not carry them): remembered, else found by reading the calendar backwards."""
        key = (calendar_id, str(booking_id))
        with self._lock:
            if key in self._holds:
                return self._holds[key]
        stored = self.log.recorder.select_events(
            calendar_id, lte=event.originator_version, desc=True, limit=HOLD_SCAN_LIMIT
        )
        for item in stored:
            found = self.log.mapper.to_domain_event(item)
            if isinstance(found, ListingCalendar.HoldPlaced) and found.booking_id == booking_id:
                self._put(self._holds, key, found.keys)
                return list(found.keys)
        return None

    def _put(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > self.size:
                cache.popitem(last=False)
