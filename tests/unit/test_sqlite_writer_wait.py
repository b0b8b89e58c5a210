"""A command on the SQLite store waits for the one writer connection beyond the library's 5 s."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import listing_calendar


def test_a_save_waits_for_a_writer_held_longer_than_the_librarys_five_seconds(
    tmp_path: Path,
) -> None:
    store = build_event_store(Settings(environment="test", data_dir=tmp_path, group_commit=False))
    held, release_at = threading.Event(), time.monotonic() + 6.0

    def hold_the_writer() -> None:
        with store.recorder.datastore.transaction(commit=True):  # type: ignore[attr-defined]
            held.set()
            time.sleep(max(0.0, release_at - time.monotonic()))

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    assert held.wait(5)
    calendar = listing_calendar()
    store.record(calendar)  # raised ConnectionUnavailableError after 5 s before
    holder.join()
    assert time.monotonic() >= release_at
    assert store.repository.get(calendar.id).version == calendar.version
