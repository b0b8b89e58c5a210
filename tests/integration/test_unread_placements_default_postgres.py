"""Whether placements act on cached state when `unread_placements` is left unset: on with one
API worker, off with several (each worker's cache goes stale whenever another books the same
listing; task K measured +0.2 ms per booking on two workers). Set, it wins either way."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("api_workers", "unread", "acts_on_cache"),
    [
        (None, None, True),
        (1, None, True),
        (2, None, False),
        (2, True, True),
        (1, False, False),
    ],
)
def test_unread_placements_default_follows_the_api_workers(
    pg_url: str, tmp_path: Any, api_workers: int | None, unread: bool | None, acts_on_cache: bool
) -> None:
    settings = Settings(
        environment="test",
        database_url=pg_url,
        data_dir=tmp_path,
        postgres_pool_size=1,
        postgres_max_overflow=1,
        api_workers=api_workers,
        unread_placements=unread,
    )
    store = build_event_store(settings)
    try:
        assert store.acts_on_cache is acts_on_cache
    finally:
        store.close()
