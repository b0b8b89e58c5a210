"""`LedgerLines.derived` reads a payment event's stored JSON without the mapper; whatever the
stored state holds, it must give what the mapper's event gives: the same entry id and canonical
lines. A state it cannot read as the rules would (an id stored otherwise, a value the
transcoder encoded where text or a number belongs) goes through the mapper."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from application.ledger import SOURCE_TOPICS
from application.ledger_lines import LedgerLines, RawEvent, notification_rows
from application.store import EventStore
from domain.ledger import canonical_postings, entry_id_for, entry_id_text
from tests.application.test_ledger_process import memory_store, record_flows


def stored_rows(store: EventStore) -> list[RawEvent]:
    rows = notification_rows(store.recorder)(SOURCE_TOPICS, 0, store.current_position())
    return list(rows)


def through_mapper(store: EventStore, row: RawEvent) -> tuple[str, list[str]] | None:
    """What the mapper's event makes: the reference for the fast reader."""
    event = LedgerLines(store.mapper)._event(row)
    lines = canonical_postings(type(event), event)
    entry_id = str(entry_id_for(event.originator_id, event.originator_version))
    return (entry_id, lines) if lines else None


@pytest.fixture(scope="module")
def store() -> EventStore:
    store = memory_store()
    record_flows(store, 40)
    return store


def test_every_stored_payment_event_reads_as_the_mapper_reads_it(store: EventStore) -> None:
    reader = LedgerLines(store.mapper)
    rows = stored_rows(store)
    assert len(rows) > 40
    derived = [reader.derived(row) for row in rows]
    assert any(d is not None for d in derived)
    assert derived == [through_mapper(store, row) for row in rows]


def restored(row: RawEvent, change: Any) -> RawEvent:
    state = json.loads(row[4])
    change(state)
    return (*row[:4], json.dumps(state).encode())


def owner_as_text(state: dict[str, Any]) -> None:
    state["owner_id"] = "someone"  # not `uuid_hex`: the rules must see the text as stored


def encoded_where_text_belongs(state: dict[str, Any]) -> None:
    state["event_id"] = {"_type_": "uuid_hex", "_data_": "0" * 32}


def extra_list(state: dict[str, Any]) -> None:
    state["notes"] = ["a", "b"]


@pytest.mark.parametrize("change", [owner_as_text, encoded_where_text_belongs, extra_list])
def test_a_state_read_otherwise_gives_what_the_mapper_gives(store: EventStore, change: Any) -> None:
    reader = LedgerLines(store.mapper)
    rows = [restored(row, change) for row in stored_rows(store)]
    expected = [through_mapper(store, row) for row in rows]
    assert any(e is not None for e in expected)
    assert [reader.derived(row) for row in rows] == expected


def test_a_state_with_whitespace_around_it_reads_as_json_does(store: EventStore) -> None:
    reader = LedgerLines(store.mapper)
    rows = [(*row[:4], b" \n" + row[4] + b"\n ") for row in stored_rows(store)]
    expected = [through_mapper(store, row) for row in stored_rows(store)]
    assert [reader.derived(row) for row in rows] == expected


def test_entry_id_text_is_the_entry_ids_text() -> None:
    sources = [(uuid4(), version) for version in range(1, 400)]  # every variant digit
    assert [entry_id_text(str(i), v) for i, v in sources] == [
        str(entry_id_for(i, v)) for i, v in sources
    ]
