"""`largest` answers from the cities alone, without building the name index (demo seeding
asks only it), and gives what the index gives."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.places_offline import OfflinePlaces
from tests.unit.test_places import TABLE


def _counting() -> tuple[OfflinePlaces, list[int]]:
    loads: list[int] = []

    def load() -> list[dict[str, Any]]:
        loads.append(1)
        return list(TABLE)

    return OfflinePlaces(load_cities=load), loads


@pytest.fixture(scope="module")
def indexed() -> OfflinePlaces:
    """One indexed instance for every case: `largest` does not change it, and each build
    ends in a full collection (`_compacted`), which in a long-lived pytest worker's heap took
    ~1.5 s a case (~30 s of this module's ~33 s in CI)."""
    places, _ = _counting()
    places.autocomplete("ber")
    assert places._index is not None
    return places


@pytest.mark.parametrize("country", [None, "CH", "at", "de", "XX"])
@pytest.mark.parametrize("limit", [0, 1, 2, 50])
def test_largest_before_the_index_equals_largest_from_it(
    indexed: OfflinePlaces, country: str | None, limit: int
) -> None:
    alone, _ = _counting()
    assert alone.largest(limit, country=country) == indexed.largest(limit, country=country)
    assert alone._index is None  # `alone` answered without the index


def test_largest_reads_the_cities_once_and_builds_no_index() -> None:
    places, loads = _counting()
    first = places.largest(3)
    assert [p.name for p in first[:2]] == ["Berlin", "Vienna"]
    places.largest(2, country="CH")
    assert loads == [1]
    assert places._index is None  # the name index is still unbuilt

    assert places.autocomplete("wien")[0].name == "Vienna"  # builds it: a second read
    assert loads == [1, 1]
    assert places.largest(3) == first  # now from the index
    assert loads == [1, 1]
