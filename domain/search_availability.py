"""The period a dated search asks about, and the port the availability view answers through.

Here, below both layers, because listing search (application) asks and the availability view
(projections) answers, and neither may import the other.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
HOUR = 3600


@dataclass(frozen=True)
class SearchPeriod:
    """The period asked for: local dates (nights/days) or instants (hourly slots)."""

    start: date | datetime
    end: date | datetime

    @property
    def hourly(self) -> bool:
        return isinstance(self.start, datetime)

    def night_keys(self) -> list[int]:
        """Date ordinals of the nights/days, as calendars key them."""
        assert not self.hourly
        return list(range(self.start.toordinal(), self.end.toordinal()))

    def index_days(self) -> tuple[int, ...]:
        """Day numbers (since 1970-01-01), as documents' `blocked_nights` hold them."""
        return tuple(k - EPOCH_ORDINAL for k in self.night_keys())

    def index_hours(self) -> tuple[int, ...]:
        """Hour numbers (epoch seconds // 3600) of every hour the period touches, as
        documents' `blocked_hours` hold them."""
        assert isinstance(self.start, datetime) and isinstance(self.end, datetime)
        first = int(self.start.timestamp()) // HOUR
        last = math.ceil(self.end.timestamp() / HOUR)
        return tuple(range(first, last))


class Availability(ABC):
    """The availability view, asked about candidates before they are shown."""

    @abstractmethod
    def bookable(
        self, listing_ids: Sequence[UUID], period: SearchPeriod, quantity: int, at: datetime
    ) -> set[UUID]:
        """Those of `listing_ids` with at least `quantity` free units for every night,
        day or slot of `period` (holds expired by `at` count as free); listings the view
        does not know are not bookable."""
