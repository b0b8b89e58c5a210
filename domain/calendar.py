"""ListingCalendar: a listing's inventory and every allocation on it, by booking id.

Keys are integers: date ordinals for nights/days, epoch seconds of slot starts for hours.
`place_hold` is the one place where capacity is checked; the calendar and the booking are
saved together, so the event store's optimistic concurrency on this stream is what makes
overbooking impossible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, NotFoundError, RuleViolation, UnavailableError

CALENDAR_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/calendar")
HOLD = "hold"
RESERVATION = "reservation"


@lru_cache(maxsize=4096)
def calendar_id(listing_id: UUID) -> UUID:
    """Every placement derives it (a SHA-1): hot listings' ids are kept."""
    return uuid5(CALENDAR_NS, str(listing_id))


def occupied_keys(keys: Iterable[int], buffer_slots: int, step: int) -> set[int]:
    """The keys an allocation takes: its own plus the turnover buffer after it (the read
    side uses this same rule)."""
    return {k + i * step for k in keys for i in range(buffer_slots + 1)}


class ListingCalendar(Aggregate):
    @staticmethod
    def create_id(listing_id: UUID, **_: Any) -> UUID:
        return calendar_id(listing_id)

    @event("Opened")
    def __init__(
        self,
        listing_id: UUID,
        unit: str,
        units: int,
        step: int,
        buffer_slots: int,
        opening_hours: dict[str, list[list[str]]],
        at: datetime,
    ) -> None:
        self.listing_id = listing_id
        self.unit = unit
        self.units = units
        self.step = step  # 1 between day keys, 3600 between slot keys
        self.buffer_slots = buffer_slots
        self.opening_hours = opening_hours
        self.blocks: dict[str, dict[str, Any]] = {}
        self.allocations: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, list[str]] = {}  # str(key) -> booking ids allocated there

    # -- queries -------------------------------------------------------------------------

    def is_live(self, alloc: dict[str, Any], at: datetime) -> bool:
        if alloc["kind"] == RESERVATION:
            return True
        return datetime.fromisoformat(alloc["expires_at"]) > at

    def occupied_keys(self, keys: Iterable[int], buffer_slots: int) -> set[int]:
        return occupied_keys(keys, buffer_slots, self.step)

    def blocked_keys(self) -> set[int]:
        return {k for b in self.blocks.values() for k in b["keys"]}

    def used(self, key: int, at: datetime, *, ignoring: str | None = None) -> int:
        total = 0
        for booking_id in self.by_key.get(str(key), ()):
            alloc = self.allocations[booking_id]
            if booking_id != ignoring and self.is_live(alloc, at):
                total += alloc["quantity"]
        return total

    def free_units(self, key: int, at: datetime) -> int:
        if key in self.blocked_keys():
            return 0
        return max(self.units - self.used(key, at), 0)

    def check_available(self, keys: list[int], quantity: int, at: datetime) -> None:
        if quantity < 1:
            raise RuleViolation("bad_quantity", "quantity must be at least 1")
        if quantity > self.units:
            raise UnavailableError(f"only {self.units} units exist")
        blocked = self.blocked_keys()
        if any(key in blocked for key in keys):
            raise UnavailableError("the listing is blocked for part of that period")
        for key in self.occupied_keys(keys, self.buffer_slots):
            if self.used(key, at) + quantity > self.units:
                raise UnavailableError()

    def allocation(self, booking_id: UUID) -> dict[str, Any] | None:
        return self.allocations.get(str(booking_id))

    # -- commands ------------------------------------------------------------------------

    def place_hold(
        self, booking_id: UUID, keys: list[int], quantity: int, expires_at: datetime, at: datetime
    ) -> None:
        if str(booking_id) in self.allocations:
            raise ConflictError("duplicate_allocation", "the booking already holds units")
        if not keys:
            raise RuleViolation("bad_period", "the period is empty")
        self.check_available(sorted(keys), quantity, at)
        self._hold_placed(booking_id, sorted(keys), quantity, expires_at, at)

    @event("HoldPlaced")
    def _hold_placed(
        self, booking_id: UUID, keys: list[int], quantity: int, expires_at: datetime, at: datetime
    ) -> None:
        bid = str(booking_id)
        self.allocations[bid] = {
            "kind": HOLD,
            "keys": list(keys),
            "quantity": quantity,
            "expires_at": expires_at.isoformat(),
            "buffer": self.buffer_slots,
        }
        for key in self.occupied_keys(keys, self.buffer_slots):
            self.by_key.setdefault(str(key), []).append(bid)

    def extend_hold(self, booking_id: UUID, expires_at: datetime, at: datetime) -> None:
        """An owner's approval turns the 24 h request hold into a 15 min payment hold."""
        self._live_hold(booking_id, at)
        self._hold_extended(booking_id, expires_at, at)

    @event("HoldExtended")
    def _hold_extended(self, booking_id: UUID, expires_at: datetime, at: datetime) -> None:
        self.allocations[str(booking_id)]["expires_at"] = expires_at.isoformat()

    def confirm(self, booking_id: UUID, at: datetime) -> None:
        self._live_hold(booking_id, at)
        self._confirmed(booking_id, at)

    @event("ReservationConfirmed")
    def _confirmed(self, booking_id: UUID, at: datetime) -> None:
        alloc = self.allocations[str(booking_id)]
        alloc["kind"] = RESERVATION
        alloc["expires_at"] = None

    def release(self, booking_id: UUID, reason: str, at: datetime) -> None:
        """Idempotent: releasing what is not allocated records nothing."""
        if str(booking_id) in self.allocations:
            self._released(booking_id, reason, at)

    @event("Released")
    def _released(self, booking_id: UUID, reason: str, at: datetime) -> None:
        bid = str(booking_id)
        alloc = self.allocations.pop(bid)
        for key in self.occupied_keys(alloc["keys"], alloc["buffer"]):
            ids = self.by_key.get(str(key), [])
            if bid in ids:
                ids.remove(bid)
            if not ids:
                self.by_key.pop(str(key), None)

    def add_block(self, block_id: UUID, keys: list[int], reason: str, at: datetime) -> None:
        if not keys:
            raise RuleViolation("bad_period", "the block is empty")
        if any(self.used(k, at) for k in keys):
            raise ConflictError("block_overlaps_bookings", "bookings exist in that period")
        self._blocked(block_id, sorted(keys), reason, at)

    @event("Blocked")
    def _blocked(self, block_id: UUID, keys: list[int], reason: str, at: datetime) -> None:
        self.blocks[str(block_id)] = {"keys": list(keys), "reason": reason}

    def remove_block(self, block_id: UUID, at: datetime) -> None:
        if str(block_id) not in self.blocks:
            raise NotFoundError("block_not_found", f"block {block_id} not found")
        self._unblocked(block_id, at)

    @event("Unblocked")
    def _unblocked(self, block_id: UUID, at: datetime) -> None:
        del self.blocks[str(block_id)]

    def change_units(self, units: int, at: datetime) -> None:
        if units < 1:
            raise RuleViolation("bad_quantity", "a listing has at least one unit")
        peak = max((self.used(int(k), at) for k in self.by_key), default=0)
        if units < peak:
            raise ConflictError("units_in_use", f"{peak} units are allocated at the busiest time")
        if units != self.units:
            self._units_changed(units, at)

    @event("UnitsChanged")
    def _units_changed(self, units: int, at: datetime) -> None:
        self.units = units

    def change_rules(
        self, buffer_slots: int, opening_hours: dict[str, list[list[str]]], at: datetime
    ) -> None:
        if buffer_slots < 0:
            raise RuleViolation("bad_buffer", "buffer cannot be negative")
        if buffer_slots != self.buffer_slots or opening_hours != self.opening_hours:
            self._rules_changed(buffer_slots, opening_hours, at)

    @event("RulesChanged")
    def _rules_changed(
        self, buffer_slots: int, opening_hours: dict[str, list[list[str]]], at: datetime
    ) -> None:
        # Existing allocations keep the widening they were placed with.
        self.buffer_slots = buffer_slots
        self.opening_hours = opening_hours

    def _live_hold(self, booking_id: UUID, at: datetime) -> dict[str, Any]:
        alloc = self.allocations.get(str(booking_id))
        if alloc is None or alloc["kind"] != HOLD:
            raise ConflictError("no_hold", "the booking holds no units")
        if not self.is_live(alloc, at):
            raise ConflictError("hold_expired", "the hold on the units has expired")
        return alloc
