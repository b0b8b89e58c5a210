"""Whether placements act on cached state: on by default whatever the number of API workers
(with several, stream notices tell each which listings the others booked: task K2), off
when `unread_placements` is false."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.eventstore import build_event_store
from tests.integration.shared_stores import pg_settings

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("api_workers", "unread", "acts_on_cache"),
    [
        (None, None, True),
        (1, None, True),
        (2, None, True),
        (2, False, False),
        (2, True, True),
        (1, False, False),
    ],
)
def test_unread_placements_are_on_unless_turned_off(
    pg_url: str, tmp_path: Any, api_workers: int | None, unread: bool | None, acts_on_cache: bool
) -> None:
    unread_setting = {} if unread is None else {"unread_placements": unread}
    store = build_event_store(
        pg_settings(pg_url, tmp_path, 1, api_workers=api_workers, **unread_setting)
    )
    try:
        assert store.acts_on_cache is acts_on_cache
    finally:
        store.close()
