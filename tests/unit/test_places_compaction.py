"""The city index is copied into fresh memory after its build (`_compacted`): the copy must
be the same index, answering every query as the built one did."""

from __future__ import annotations

from infrastructure.places_offline import OfflinePlaces, _build_index, _compacted
from tests.unit.test_places import TABLE


def test_compacted_index_equals_the_built_one_but_is_a_copy() -> None:
    built = _build_index(list(TABLE))

    copy = _compacted(built)

    assert copy == built
    assert copy is not built
    assert copy.keys is not built.keys


def test_loaded_places_answer_from_the_compacted_index() -> None:
    places = OfflinePlaces(lambda: list(TABLE))

    names = [p.name for p in places.autocomplete("ber")]

    assert names[0] == "Berlin"
    assert {"Bergen", "Bern", "Véroia"} <= set(names)
    assert [p.name for p in places.largest(1, "AT")] == ["Vienna"]
