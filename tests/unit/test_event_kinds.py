"""A remembered class check answers as isinstance does, for classes seen before or not."""

from __future__ import annotations

from typing import Any

from domain.booking import Booking as _Booking
from domain.payment import Payment as _Payment
from projections.event_kinds import Kinds

Booking: Any = _Booking
Payment: Any = _Payment


class PlacedLater(Booking.Placed):
    """A subclass: isinstance counts it, so must Kinds."""


def test_kinds_answers_as_isinstance_every_time() -> None:
    kinds = Kinds(Booking.Placed, Payment.Created)
    events = (Booking.Placed, Payment.Created, Booking.Confirmed, PlacedLater)
    probes = [*(object.__new__(cls) for cls in events), 7]
    for _ in range(2):  # first sight, then remembered
        assert [kinds(p) for p in probes] == [
            isinstance(p, (Booking.Placed, Payment.Created)) for p in probes
        ]
    assert [kinds(p) for p in probes] == [True, True, False, True, False]
