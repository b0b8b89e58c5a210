"""The compact city index (infrastructure/places_index.py) answers as a straightforward
reference does, and its file is mapped when it is current, rebuilt when it is not."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure import places_offline
from infrastructure.places_index import ALT_NAME_PENALTY, CityIndex, encode
from infrastructure.places_offline import (
    EXACT_BONUS,
    INDEX_FILE,
    OfflinePlaces,
    _fingerprint,
    _load_cities,
    fold,
)
from tests.unit.test_places import TABLE


def prepared(cities: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """The cities a query may find, largest first (districts of a larger namesake dropped),
    each with its folded names and their scores: the population, an alternate name's divided
    by the penalty."""
    kept, seen = [], set()
    for c in sorted(cities, key=lambda c: (-int(c["population"]), int(c["geonameid"]))):
        base, paren, _ = c["name"].partition(" (")
        if not (paren and (base, c["countrycode"]) in seen):
            population = int(c["population"])
            scores = {fold(n): population // ALT_NAME_PENALTY for n in c["alternatenames"] or ()}
            scores[fold(c["name"])] = population
            kept.append((c, scores))
        seen.add((c["name"], c["countrycode"]))
    return kept


def reference(
    kept: list[tuple[dict[str, Any], dict[str, int]]], q: str, limit: int, country: str | None
) -> list[dict[str, Any]]:
    """Every city with a name starting with `q` (folded), by its best score (a whole name
    typed counts the bonus times), then the larger city."""
    key = fold(q)
    if not key or limit < 1:
        return []
    best: dict[int, int] = {}
    for i, (c, scores) in enumerate(kept):
        if country and c["countrycode"] != country.upper():
            continue
        for name, score in scores.items():
            if name and name.startswith(key):
                best[i] = max(best.get(i, 0), score * (EXACT_BONUS if name == key else 1))
    order = sorted(best, key=lambda i: (-best[i], i))
    return [kept[i][0] for i in order[:limit]]


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """Real rows (names, accents, scripts, alternates): every 20th city of the shipped
    dataset, and every city of a few crowded prefixes, where a whole name typed (Bath, San)
    competes with larger cities it is a prefix of."""
    crowded = ("bat", "san", "ber", "mar", "wi", "york")
    cities = sorted(_load_cities(), key=lambda c: int(c["geonameid"]))
    return [c for i, c in enumerate(cities) if i % 20 == 0 or fold(c["name"]).startswith(crowded)]


@pytest.fixture(scope="module")
def compact(sample: list[dict[str, Any]]) -> OfflinePlaces:
    return OfflinePlaces(lambda: sample)


@pytest.fixture(scope="module")
def expected(sample: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, int]]]:
    return prepared(sample)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_compact_index_answers_like_the_reference(
    sample: list[dict[str, Any]],
    expected: list[tuple[dict[str, Any], dict[str, int]]],
    compact: OfflinePlaces,
    data: st.DataObject,
) -> None:
    c = data.draw(st.sampled_from(sample))
    name = data.draw(st.sampled_from([c["name"], *(c["alternatenames"] or ())]))
    q = name[: data.draw(st.one_of(st.just(len(name)), st.integers(1, max(1, len(name)))))]
    q = data.draw(st.sampled_from([q, q.upper(), q.lower(), fold(q), f" {q}-"]))
    country = data.draw(st.sampled_from([None, c["countrycode"], c["countrycode"].lower(), "XX"]))
    limit = data.draw(st.integers(0, 25))

    found = compact.autocomplete(q, limit, country)

    assert [(p.name, p.country, p.lat, p.lng, p.timezone, p.population) for p in found] == [
        (c["name"], c["countrycode"], c["latitude"], c["longitude"], c["timezone"], c["population"])
        for c in reference(expected, q, limit, country)
    ]


def test_largest_from_the_compact_index_equals_largest_from_the_rows(
    sample: list[dict[str, Any]], compact: OfflinePlaces
) -> None:
    rows = OfflinePlaces(lambda: sample)
    compact.autocomplete("a")
    for country in (None, "US", "in", "XX"):
        assert compact.largest(40, country) == rows.largest(40, country)
    assert rows._index is None


# -- the file ---------------------------------------------------------------------------------


def counting(cache: Path) -> tuple[OfflinePlaces, list[int]]:
    loads: list[int] = []

    def load() -> list[dict[str, Any]]:
        loads.append(1)
        return list(TABLE)

    return OfflinePlaces(load, cache_dir=cache), loads


def test_the_index_file_is_built_once_then_mapped(tmp_path: Path) -> None:
    first, loads = counting(tmp_path)
    assert [p.name for p in first.autocomplete("wie")] == ["Wiesbaden", "Vienna", "Wiener Neustadt"]
    assert loads == [1] and (tmp_path / INDEX_FILE).exists()

    second, loads = counting(tmp_path)
    assert second.autocomplete("wie") == first.autocomplete("wie")
    assert loads == []  # mapped, not rebuilt
    assert second._index is not None and not isinstance(second._index.data, bytes)


def stale(path: Path) -> None:
    cities = sorted(TABLE, key=lambda c: -int(c["population"]))
    path.write_bytes(encode(cities, {("nowhere", 0): 1}, fingerprint="an older build"))


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [stale, corrupt, truncate, empty])
def test_a_stale_or_damaged_index_file_is_rebuilt(tmp_path: Path, damage: Any) -> None:
    counting(tmp_path)[0].autocomplete("b")
    damage(tmp_path / INDEX_FILE)

    places, loads = counting(tmp_path)

    assert [p.name for p in places.autocomplete("ber", 3)] == ["Berlin", "Bergen", "Bern"]
    assert loads == [1]
    index = CityIndex((tmp_path / INDEX_FILE).read_bytes())
    assert index.fingerprint == _fingerprint()
    assert counting(tmp_path)[0].autocomplete("bern") == places.autocomplete("bern")


def test_without_a_writable_cache_the_index_is_kept_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")

    places, loads = counting(blocked)

    assert [p.name for p in places.autocomplete("lodz")] == ["Łódź"]
    assert loads == [1]
    assert places._index is not None and isinstance(places._index.data, bytes)


def test_the_shipped_dataset_is_indexed_by_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here() -> list[dict[str, Any]]:
        raise AssertionError("the rows were loaded in the serving process")

    monkeypatch.setattr(places_offline, "_load_cities", not_here)

    places = OfflinePlaces(cache_dir=tmp_path)

    assert places.autocomplete("lisb")[0].name == "Lisbon"
    assert places._index is not None and not isinstance(places._index.data, bytes)


def test_bisecting_through_the_sampled_keys_equals_bisecting_all_keys(
    compact: OfflinePlaces,
) -> None:
    index = compact._cities()
    keys = [index.keys[i] for i in range(len(index.keys))]
    probes = {
        b"",
        b"\xff",
        *keys[::5],
        *(k[:-1] for k in keys[::7]),
        *(k + b"!" for k in keys[::9]),
    }

    for probe in probes:
        lo = bisect_left(keys, probe)
        assert index.bisect(probe) == lo
        assert index.bisect(probe, right=True, lo=lo) == bisect_right(keys, probe)
