"""`LedgerLines.derived` validates only the fields each posting rule reads (a probe learns
which); whatever values the stored state holds there, or anywhere else, it must give what the
mapper's event gives: integers of any size exactly, a value of another type through the
mapper, a field a rule reads only on some branch still read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.ledger_lines import _PLAIN, LedgerLines, RawEvent, _fields, _layout, _Unknown
from application.store import EventStore
from domain.ledger import RULES, canonical_postings
from domain.payment import Payment
from tests.application.test_ledger_lines import stored_rows, through_mapper
from tests.application.test_ledger_process import memory_store, record_flows


@pytest.fixture(scope="module")
def store() -> EventStore:
    store = memory_store()
    record_flows(store, 12)
    return store


def with_state(row: RawEvent, state: dict[str, Any]) -> RawEvent:
    return (*row[:4], json.dumps(state).encode())


VALUES = st.one_of(
    st.integers(-(2**80), 2**80),  # beyond 64 bits too: exact, as `json` reads them
    st.integers(-5, 5),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["requested", "succeeded", "EUR", ""]),
    st.none(),
    st.just({"_type_": "uuid_hex", "_data_": "0" * 32}),
    st.just(["a"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_values_in_any_field_read_as_the_mapper_reads_them(
    store: EventStore, data: st.DataObject
) -> None:
    reader = LedgerLines(store.mapper)
    row = data.draw(st.sampled_from(stored_rows(store)))
    state = json.loads(row[4])
    for name in data.draw(st.lists(st.sampled_from(sorted(state)), max_size=4, unique=True)):
        state[name] = data.draw(VALUES)
    if data.draw(st.booleans()):
        state["added"] = data.draw(VALUES)
    changed = with_state(row, state)
    try:
        expected: Any = through_mapper(store, changed)
    except Exception as e:  # a state the mapper cannot make an event of
        with pytest.raises(type(e)):
            reader.derived(changed)
        return
    assert reader.derived(changed) == expected


def test_a_rule_validates_only_the_fields_it_reads() -> None:
    captured = _PLAIN[get_topic(Payment.ChargeCaptured)]  # type: ignore[attr-defined]
    raw = b'{"amount": 9, "fee": 1, "event_id": {"not": "text"}, "owner_share": 1.5}'
    assert captured.validator.validate_json(raw) == {"amount": 9, "fee": 1}
    assert captured.uuids == ("owner_id",)  # booking_id: no rule of a capture reads it


@dataclass
class Branching:
    amount: int
    currency: str
    extra: int


def branching_rule(e: Any, p: Any) -> None:
    p.add("a", "debit", e.amount).add("b", "credit", e.amount)
    if e.amount > 100:  # the probe's 0 never gets here
        p.add("c", "debit", e.extra).add("d", "credit", e.extra)


def test_a_field_read_on_a_branch_the_probe_missed_is_unknown_so_mapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(RULES, Branching, branching_rule)
    layout = _layout(Branching)
    small = _fields(layout, b'{"amount": 5, "currency": "EUR", "extra": 7}')
    large = _fields(layout, b'{"amount": 500, "currency": "EUR", "extra": 7}')
    assert canonical_postings(Branching, small) == ["a|debit|5|EUR", "b|credit|5|EUR"]
    with pytest.raises(_Unknown):  # LedgerLines.derived reads such an event with the mapper
        canonical_postings(Branching, large)


def test_a_state_with_a_class_version_goes_through_the_mapper(store: EventStore) -> None:
    reader = LedgerLines(store.mapper)
    rows = [
        with_state(row, {**json.loads(row[4]), "class_version": 1}) for row in stored_rows(store)
    ]
    assert [reader.derived(row) for row in rows] == [through_mapper(store, row) for row in rows]
