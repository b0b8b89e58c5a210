"""A rebuild lets go of each page's decoded events before the cycle collector comes back:
the collection `gc_paused`'s end sets off would otherwise scan every one of them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from projections import rebuild
from projections.runner import ProjectionRunner
from tests.projections.helpers import Item, ItemsView, record_items


def _live_item_events() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Item.Event))


def test_a_pages_events_are_gone_when_the_pause_ends(
    store: EventStore, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_items(store, 8, changes=3)
    runner = ProjectionRunner(store, engine, [ItemsView()], batch_size=4, rebuild_batch_size=8)
    runner.setup()
    paused = rebuild.gc_paused
    left: list[int] = []  # item events alive at a pause's end beyond those before it

    @contextmanager
    def watched() -> Iterator[None]:
        before = _live_item_events()
        with paused():
            yield
            left.append(_live_item_events() - before)

    monkeypatch.setattr(rebuild, "gc_paused", watched)

    assert runner.rebuild_all() == store.current_position()

    assert len(left) >= 4  # 32 events, pages of 8
    assert all(n <= 0 for n in left), left
