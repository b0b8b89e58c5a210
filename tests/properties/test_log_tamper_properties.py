"""Properties of tamper evidence: whichever stored event is edited, and whichever byte of
whichever field of an export line is flipped, verification names exactly that event/line."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.audit_log import BrokenLink, verify_log
from infrastructure.event_export import Bounds, export_events, verify_export
from infrastructure.event_log import LoggedEvent, SqliteEventLog
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import make_world

FIELDS = ["notification_id", "stream_id", "version", "topic", "state", "prev_hash", "hash"]


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Path, list[LoggedEvent], list[str]]]:
    """A SQLite event store with a few streams, its rows and its full export."""
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(environment="test", data_dir=Path(directory))
        store = build_event_store(settings)
        world = make_world(store)
        for _ in range(3):
            world.active_listing()
        store.close()
        path = Path(directory) / "events.db"
        with SqliteEventLog(str(path)) as log:
            rows = log.page(0, 1000)
            out = io.StringIO()
            export_events(log, out, Bounds())
        yield path, rows, out.getvalue().splitlines()


@given(data=st.data())
def test_any_edited_stored_event_is_named_exactly(
    seeded: tuple[Path, list[LoggedEvent], list[str]], data: st.DataObject
) -> None:
    template, rows, _ = seeded
    row = data.draw(st.sampled_from(rows))
    offset = data.draw(st.integers(0, len(row.state) - 1))
    flipped = bytearray(row.state)
    flipped[offset] ^= data.draw(st.integers(1, 255))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "events.db"
        shutil.copy(template, path)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "UPDATE stored_events SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (bytes(flipped), row.stream_id.hex, row.version),
            )
        with SqliteEventLog(str(path)) as log:
            broken = verify_log(log).broken
    assert broken == BrokenLink("hash_mismatch", row.notification_id, row.stream_id, row.version)


def _flip(value: object, data: st.DataObject) -> object:
    if isinstance(value, int):
        return value + data.draw(st.integers(-3, 3).filter(bool))
    text = str(value)
    i = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != text[i]))
    return text[:i] + replacement + text[i + 1 :]


@given(data=st.data())
def test_any_flipped_field_of_an_export_line_is_named_at_that_line(
    seeded: tuple[Path, list[LoggedEvent], list[str]], data: st.DataObject
) -> None:
    _, _, lines = seeded
    index = data.draw(st.integers(0, len(lines) - 1))
    entry = json.loads(lines[index])
    field = data.draw(st.sampled_from(FIELDS))
    entry[field] = _flip(entry[field], data)
    edited = [*lines[:index], json.dumps(entry), *lines[index + 1 :]]
    report = verify_export(edited)
    assert report.broken is not None and report.broken.line == index + 1
    assert report.lines_checked == index
    assert verify_export(lines).ok
