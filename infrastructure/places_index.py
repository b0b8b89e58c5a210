"""The city name index in one flat buffer: a few arrays of machine ints and two UTF-8 blobs
(folded names, sorted; city names), read in place through memoryviews. Built in a process it
is one ~13 MB bytes object instead of ~50 MB of Python str, tuple and Place objects (and the
garbage that pinned their allocator arenas); written to a file, every worker maps the same
pages read-only and only those a query touches count in its RSS.

UTF-8 sorts bytes in code point order, so bisecting encoded keys finds what bisecting the
str keys found.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import threading
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from application.places import Place

MAGIC = b"RBPLACE1"
# A match on an alternate name ranks like a city this many times smaller, so that "ma" finds
# Madrid and Manila before Moscow ("Maskva"), yet "wie" still finds Vienna ("Wien").
ALT_NAME_PENALTY = 20
_STEP = 32
_HEAD = 16  # magic, header length (u32), crc32 of everything after the head (u32)
# (section, array typecode): entries are (folded name, city) pairs sorted by name then city;
# ranks order them by score, best first; cities are most populous first.
_SECTIONS: tuple[tuple[str, Literal["I", "H", "d"]], ...] = (
    ("key_at", "I"),  # entry -> start of its folded name in `data` (+1 sentinel: the end)
    ("rank", "I"),  # entry -> its rank
    ("city_at_rank", "I"),
    ("score_at_rank", "I"),  # scores and populations fit 32 bits (array refuses if not)
    ("country_at_rank", "H"),  # index into the header's countries
    ("name_at", "I"),  # city -> start of its name in `data` (+1 sentinel)
    ("city_country", "H"),
    ("city_zone", "H"),  # index into the header's zones
    ("lat", "d"),
    ("lng", "d"),
    ("population", "I"),
)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def encode(
    cities: Sequence[dict[str, Any]], best: dict[tuple[str, int], int], fingerprint: str
) -> bytes:
    """The buffer for `cities` (most populous first) and `best`: (folded name, city) -> score."""
    entries = sorted(best)  # by folded name, then city
    scores = [best[entry] for entry in entries]
    # One int per entry sorts by score (descending), then city: cheaper than tuple keys.
    sort_key = [(-score << 20) + city for score, (_, city) in zip(scores, entries, strict=True)]
    order = sorted(range(len(entries)), key=sort_key.__getitem__)
    rank = array("I", bytes(4 * len(entries)))
    for r, e in enumerate(order):
        rank[e] = r
    countries = sorted({c["countrycode"] for c in cities})
    zones = sorted({c["timezone"] for c in cities})
    country_of, zone_of = (
        {c: i for i, c in enumerate(countries)},
        {z: i for i, z in enumerate(zones)},
    )
    city_country = array("H", (country_of[c["countrycode"]] for c in cities))
    keys = [_utf8(key) for key, _ in entries]
    names = [_utf8(c["name"]) for c in cities]
    arrays: dict[str, array[Any]] = {
        "rank": rank,
        "city_at_rank": array("I", (entries[e][1] for e in order)),
        "score_at_rank": array("I", (scores[e] for e in order)),
        "country_at_rank": array("H", (city_country[entries[e][1]] for e in order)),
        "city_country": city_country,
        "city_zone": array("H", (zone_of[c["timezone"]] for c in cities)),
        "lat": array("d", (float(c["latitude"]) for c in cities)),
        "lng": array("d", (float(c["longitude"]) for c in cities)),
        "population": array("I", (int(c["population"]) for c in cities)),
    }
    header = {
        "fingerprint": fingerprint,
        "countries": countries,
        "zones": zones,
        "entries": len(entries),
        "cities": len(cities),
    }
    # Offsets are absolute, so they depend on the header's length: lay out with placeholder
    # sections first, then again with the real sizes (the layout only grows by digits).
    sizes = {"key_at": 4 * (len(entries) + 1), "name_at": 4 * (len(cities) + 1)}
    sizes |= {name: len(a) * a.itemsize for name, a in arrays.items()}
    blob_sizes = {"keys": sum(map(len, keys)), "names": sum(map(len, names))}
    layout: dict[str, int] = {}
    for _ in range(3):  # a fixed point: offsets' digits change the header's length
        head = json.dumps(header | {"layout": layout}).encode()
        at = _aligned(_HEAD + len(head))
        fresh = {}
        for name, _code in _SECTIONS:
            fresh[name] = at
            at = _aligned(at + sizes[name])
        for name, size in blob_sizes.items():
            fresh[name] = at
            at = _aligned(at + size)
        if fresh == layout:
            break
        layout = fresh
    head = json.dumps(header | {"layout": layout}).encode()
    arrays["key_at"] = _offsets(keys, layout["keys"])
    arrays["name_at"] = _offsets(names, layout["names"])
    out = bytearray(at)
    out[_HEAD : _HEAD + len(head)] = head
    for name, _code in _SECTIONS:
        raw = arrays[name].tobytes()
        out[layout[name] : layout[name] + len(raw)] = raw
    out[layout["keys"] : layout["keys"] + blob_sizes["keys"]] = b"".join(keys)
    out[layout["names"] : layout["names"] + blob_sizes["names"]] = b"".join(names)
    out[:8] = MAGIC
    out[8:12] = len(head).to_bytes(4, "little")
    out[12:16] = zlib.crc32(memoryview(out)[_HEAD:]).to_bytes(4, "little")
    return bytes(out)


def _aligned(at: int) -> int:
    return (at + 7) & ~7


def _offsets(parts: Iterable[bytes], start: int) -> array[int]:
    offsets = array("I", [start])
    for part in parts:
        start += len(part)
        offsets.append(start)
    return offsets


class _Keys:
    """The sorted folded names as a sequence of bytes, for `bisect`."""

    __slots__ = ("_at", "_data", "_len")

    def __init__(self, data: bytes | mmap.mmap, at: memoryview) -> None:
        self._data, self._at, self._len = data, at, len(at) - 1

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> bytes:
        return self._data[self._at[i] : self._at[i + 1]]


class CityIndex:
    """Reads a buffer made by `encode` in place; the only Python objects are a few views, the
    header's tables and the Places a query returns."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        size = int.from_bytes(data[8:12], "little")
        header = json.loads(data[_HEAD : _HEAD + size])
        self.fingerprint: str = header["fingerprint"]
        self.countries: list[str] = header["countries"]
        self.zones: list[str] = header["zones"]
        self.country_code = {c: i for i, c in enumerate(self.countries)}
        view, layout = memoryview(data), header["layout"]
        n, m = header["entries"], header["cities"]
        sections: dict[str, memoryview[Any]] = {
            name: view[layout[name] :].cast(code) for name, code in _SECTIONS
        }
        self.rank = sections["rank"][:n]
        self.city_at_rank = sections["city_at_rank"][:n]
        self.score_at_rank = sections["score_at_rank"][:n]
        self.country_at_rank = sections["country_at_rank"][:n]
        self._name_at = sections["name_at"][: m + 1]
        self._city_country = sections["city_country"][:m]
        self._city_zone = sections["city_zone"][:m]
        self._lat, self._lng = sections["lat"][:m], sections["lng"][:m]
        self._population = sections["population"][:m]
        self.keys = _Keys(data, sections["key_at"][: n + 1])
        # Every _STEP-th key as bytes in a list: the C bisect narrows on it, and only the last
        # few steps call `_Keys` (~20 Python calls a query instead of ~60).
        self._sampled = [self.keys[i] for i in range(0, n, _STEP)]
        self.cities = m
        self._by_country: dict[str, list[int]] | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CityIndex) and memoryview(self.data) == memoryview(other.data)

    __hash__ = None  # type: ignore[assignment]

    def bisect(self, key: bytes, *, right: bool = False, lo: int = 0) -> int:
        """`bisect_left` (or `bisect_right`) of `key` in the sorted keys, from `lo`."""
        at = (bisect_right if right else bisect_left)(self._sampled, key)
        # Sampled key `at - 1` is below `key` (not above it, right), key `at` is not: the
        # answer lies between them.
        low, high = max(lo, (at - 1) * _STEP), min(at * _STEP, len(self.keys))
        return (bisect_right if right else bisect_left)(self.keys, key, min(low, high), high)

    def place(self, city: int) -> Place:
        return Place(
            name=self.data[self._name_at[city] : self._name_at[city + 1]].decode(
                "utf-8", "surrogatepass"
            ),
            country=self.countries[self._city_country[city]],
            lat=self._lat[city],
            lng=self._lng[city],
            timezone=self.zones[self._city_zone[city]],
            population=self._population[city],
        )

    def largest(self, limit: int, country: str | None) -> list[Place]:
        if country is None:
            return [self.place(city) for city in range(min(max(limit, 0), self.cities))]
        by_country = self._by_country
        if by_country is None:  # a race builds it twice, the same
            by_country = {}
            for city, code in enumerate(self._city_country):
                by_country.setdefault(self.countries[code], []).append(city)
            self._by_country = by_country
        return [self.place(city) for city in by_country.get(country, [])[: max(limit, 0)]]


# -- the file -----------------------------------------------------------------------------------


def open_file(path: Path, fingerprint: str) -> CityIndex | None:
    """The index mapped from `path`, or None when it is missing, of another build or damaged.
    The check reads the file (into the OS page cache, not this process's RSS) before mapping."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
            if len(head) < _HEAD or head[:8] != MAGIC:
                return None
            crc = 0
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
            if crc != int.from_bytes(head[12:16], "little"):
                return None
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        index = CityIndex(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return index if index.fingerprint == fingerprint else None


@contextmanager
def building(path: Path) -> Iterator[None]:
    """Holds `path`'s lock file: the workers of a serve starting together build it once,
    the others wait and map it. Without a writable directory, no lock (each builds its own)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.with_name(path.name + ".lock").open("a")
    except OSError:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def write_file(path: Path, data: bytes) -> None:
    """Writes beside and renames: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
