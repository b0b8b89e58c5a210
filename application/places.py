"""Location help for listing forms: real cities, and the time zone at a point.

The `Places` port answers from an offline dataset, so it needs no network at request time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lng: float
    timezone: str  # IANA, e.g. Europe/Lisbon
    population: int


class Places(ABC):
    @abstractmethod
    def autocomplete(self, q: str, limit: int = 10, country: str | None = None) -> list[Place]:
        """Cities whose name or an alternate name (Lisboa, Wien) starts with `q`, ignoring
        case, accents and punctuation; exact names first, then the most populous. `country`
        (ISO alpha-2) narrows the answer."""

    @abstractmethod
    def timezone_at(self, lat: float, lng: float) -> str | None:
        """The IANA zone at a point on land or in territorial waters; None out at sea or for
        coordinates out of range."""

    @abstractmethod
    def largest(self, limit: int, country: str | None = None) -> list[Place]:
        """The most populous cities, optionally of one country (demo data spreads over them)."""

    def load(self) -> None:  # noqa: B027 - optional hook, a no-op for adapters with no data
        """Loads whatever the adapter needs up front, so the first query is fast."""
