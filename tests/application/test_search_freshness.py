"""How far the index has got: the syncer records the view's position after a whole pass, and
readers wait for it (woken in-process, polling the recorded value otherwise)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from application.search_freshness import AppliedPosition
from infrastructure.views_db import create_views_engine
from projections.search_documents import ViewSearchDocuments
from tests.application.test_search_sync import build_rig
from tests.builders import NOW


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    yield engine
    engine.dispose()


def test_applied_is_the_views_position_even_when_no_document_changed(engine: Engine) -> None:
    rig = build_rig(engine)
    w = rig.world
    listing = w.active_listing(quantity=2)
    rig.sync()
    rows_at = rig.syncer.state().position
    rig.place(listing, "2026-06-10", "2026-06-11")  # one of two units: no document changes

    assert rig.sync() == 0
    state = rig.syncer.state()
    assert state.position == rows_at
    assert state.applied == rig.runner.position("search_documents") > rows_at
    assert rig.syncer.applied.value == state.applied


def test_a_waiter_is_woken_by_the_syncer_in_this_process() -> None:
    applied = AppliedPosition(lambda: 0)
    applied.local = True
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(applied.wait_for(7, timeout=5)))
    waiter.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    applied.advance(7)
    waiter.join(5)
    assert answers == [True]
    assert time.monotonic() - t0 < 0.5


def test_without_a_local_syncer_the_recorded_value_is_polled() -> None:
    recorded = [0]
    applied = AppliedPosition(lambda: recorded[0], poll_interval=0.01)
    assert not applied.wait_for(3, timeout=0.05)
    threading.Timer(0.05, lambda: recorded.__setitem__(0, 3)).start()
    assert applied.wait_for(3, timeout=5)


def test_a_state_table_made_before_applied_existed_gains_the_column(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE search_sync_state (name VARCHAR(200) PRIMARY KEY, position BIGINT "
            "NOT NULL, generation VARCHAR(100) NOT NULL, horizon_day DATE, updated_at "
            "TIMESTAMP NOT NULL)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO search_sync_state VALUES ('search_index', 9, 'g', NULL, :at)"
        ), {"at": NOW})  # fmt: skip
    state = ViewSearchDocuments(engine).load_state("search_index")
    assert state is not None
    assert (state.position, state.generation, state.applied) == (9, "g", 0)
