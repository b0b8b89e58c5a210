"""Following with every view at once (`projections/follow_together.py`): one page, one
transaction, a savepoint per view — a failing view rolls back alone."""

from __future__ import annotations

from sqlalchemy import Engine

from application.store import EventStore
from projections import tracking
from projections.base import write_transaction
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, NamesView, record_items, rows


def test_a_view_failing_mid_page_keeps_none_of_it_while_the_others_commit(
    store: EventStore, engine: Engine
) -> None:
    failing = ItemsView(fail_at=5)  # positions 1..4 of its page are applied, then it raises
    runner = ProjectionRunner(store, engine, [failing, NamesView()], max_backoff=0.05)
    record_items(store, 4, changes=1)  # one page: positions 1..8
    position = store.current_position()
    with runner:
        assert runner.wait_for(position, ["names"], timeout=5)
        assert not runner.wait_for(position, ["items"], timeout=0.3)
        assert rows(engine, runner.tables("items")["items"]) == []  # the savepoint undone
        assert len(rows(engine, runner.tables("names")["names"])) == 4
        failing.fail_at = None
        assert runner.wait_for(position, timeout=5)
    view = rows(engine, runner.tables("items")["items"])
    assert len(view) == 4 and all(r[3] == 2 for r in view)  # each event applied once


def test_a_view_that_needs_rebuilding_rebuilds_while_the_others_follow(
    store: EventStore, engine: Engine
) -> None:
    record_items(store, 3, changes=0)
    first = ProjectionRunner(store, engine, [ItemsView(), NamesView()])
    first.catch_up()
    bumped = NamesView()
    bumped.version = 2  # the view's shape changed: it is rebuilt on start
    runner = ProjectionRunner(store, engine, [ItemsView(), bumped])
    with runner:
        record_items(store, 2, changes=0)
        position = store.current_position()
        assert runner.wait_for(position, timeout=5)
    assert {s["name"]: (s["status"], s["version"]) for s in runner.status()} == {
        "items": ("ok", 1),
        "names": ("ok", 2),
    }
    assert len(rows(engine, runner.tables("names")["names"])) == 5


def test_idle_views_move_in_one_statement_and_a_stale_one_is_left_for_reload(
    engine: Engine,
) -> None:
    with write_transaction(engine) as conn:
        tracking.create(conn)
        for name in ("a", "b", "c"):
            tracking.start(conn, name, 1)
        tracking.advance(conn, "c", expected=0, position=4, last_event_at=None)
    with write_transaction(engine) as conn:  # c is not at 0 any more: another runner moved it
        moved = tracking.advance_many(conn, {"a": 0, "b": 0, "c": 0}, 7)
    assert moved == {"a", "b"}
    with engine.connect() as conn:
        assert {t.name: t.position for t in tracking.load_all(conn)} == {"a": 7, "b": 7, "c": 4}
