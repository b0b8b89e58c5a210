"""The SearchIndex port and its query model. Every backend (Meilisearch, the embedded
SQLite/PostgreSQL ones, the test fake) answers the same query with the same hits in the
same order; `tests/contract/` holds them to it.

Meilisearch ranking rules (settings): sort, words, typo, proximity, attribute, exactness,
rating:desc, created_at:desc. An explicit sort is sent as [its key, "rating:desc",
"created_at:desc", "id:asc"], so it is primary and total. `sort=relevance` sends no sort:
words matched desc, typos asc, best attribute asc (searchable attributes in weight order:
title, category, category_data values, city, country, amenities, description), exactness
(an exact word beats a prefix) desc, rating desc, created_at desc; the embedded backends end
with id asc where Meilisearch ends with its internal order, so contract data avoids such
ties. Proximity is not modelled (contract queries use one word or adjacent words).
Typo tolerance: query words of 5 to 8 characters match with 1 typo, 9+ with 2 (Damerau-
Levenshtein on whole words); the last query word also matches as a prefix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from application import json_codec

Sort = Literal["relevance", "price_asc", "price_desc", "rating", "distance", "newest"]
SENTINEL_DAY = -1  # `blocked_nights` / `blocked_hours` always hold it, so never empty

# Document fields (all backends store exactly these):
#   id (str uuid), version (int), title, description, category, category_data (dict),
#   city, country, _geo {lat, lng}, price_amount (int minor units), currency,
#   capacity (guests per unit), units, amenities [str], booking_mode ("instant"|"request"),
#   booking_unit, rating (float 0..5), review_count (int), created_at (epoch seconds int),
#   cover_thumbnail_url (str path or null),
#   blocked_nights [int day numbers since 1970-01-01 with no free unit, -1 sentinel],
#   blocked_hours [int hour numbers = slot epoch seconds // 3600, -1 sentinel].


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    category: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    # (top-left lat, top-left lng, bottom-right lat, bottom-right lng), as Meilisearch's
    # _geoBoundingBox([lat, lng], [lat, lng]).
    bbox: tuple[float, float, float, float] | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    guests: int | None = None  # capacity >= guests
    units: int | None = None  # units >= quantity asked for
    amenities: tuple[str, ...] = ()  # every one must be present
    instant_book: bool | None = None
    # Availability prefilter: documents whose blocked_nights / blocked_hours contain none of
    # these. The API re-checks dates against the availability view before answering.
    free_nights: tuple[int, ...] = ()
    free_hours: tuple[int, ...] = ()
    booking_units: tuple[str, ...] = ()  # restrict to these booking units (night/day/hour)
    sort: Sort = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = True


class SearchHit:
    """A matching document and, when lat/lng were given, its distance rounded to 3
    decimals. A backend that keeps documents as JSON passes `stored` (the bytes) instead of
    `document`: it is parsed on first use (a fresh dict per hit), and a caller that only
    re-serialises reads `stored` and never parses it (the search endpoint, issue #9);
    such a backend may pass the document's `listing_id` read from those bytes too.
    Immutable; equal when documents and distances are."""

    __slots__ = ("_document", "distance_km", "listing_id", "stored")
    _document: dict[str, Any] | None
    distance_km: float | None
    listing_id: str | None
    stored: bytes | None

    def __init__(
        self,
        document: dict[str, Any] | None = None,
        distance_km: float | None = None,
        *,
        stored: bytes | None = None,
        listing_id: str | None = None,
    ) -> None:
        if document is None and stored is None:
            raise TypeError("a SearchHit needs its document or its stored JSON")
        object.__setattr__(self, "_document", document)
        object.__setattr__(self, "distance_km", distance_km)
        object.__setattr__(self, "stored", stored)
        object.__setattr__(self, "listing_id", listing_id)

    @property
    def id(self) -> str:
        """The document's id, without parsing it when the backend gave `listing_id`."""
        return self.listing_id if self.listing_id is not None else str(self.document["id"])

    @property
    def document(self) -> dict[str, Any]:
        document = self._document
        if document is None:
            assert self.stored is not None
            document = json_codec.loads(self.stored)
            object.__setattr__(self, "_document", document)
        return document

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"SearchHit is immutable: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchHit):
            return NotImplemented
        return self.distance_km == other.distance_km and self.document == other.document

    __hash__ = None  # type: ignore[assignment]  # the document is a dict, as before

    def __repr__(self) -> str:
        return f"SearchHit(document={self.document!r}, distance_km={self.distance_km!r})"


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total_estimate: int
    # {"category": {"stay": 3, ...}, "amenities": {"wifi": 2, ...}} over all matches
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    price_stats: dict[str, int] | None = None  # {"min": .., "max": ..} over all matches


class SearchIndex(ABC):
    """A search backend. Writes are idempotent and versioned: a document never replaces a
    stored one with a higher version, and a delete at version v removes only documents at
    or below v (a later upsert with a higher version may bring it back)."""

    @abstractmethod
    def ensure_settings(self) -> None:
        """Creates the index and applies its settings; returns once they are in force."""

    @abstractmethod
    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        """Full documents (never partial); returns once they are searchable, raising
        `SearchIndexError` if the backend refused them."""

    @abstractmethod
    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None: ...

    @abstractmethod
    def get(self, listing_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def clear(self) -> None:
        """Removes every document (used by rebuilds)."""


class SearchIndexError(Exception):
    """The backend failed a write or a task; the caller retries, tracking stays put."""
