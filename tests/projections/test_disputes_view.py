"""The disputes queue view, fed with real events from the use cases (in-memory store, SQLite
views), and the deadlines view while a booking is disputed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from infrastructure.views_db import create_views_engine
from projections import deadlines
from projections.deadlines import DeadlinesView
from projections.disputes import DisputesView, list_disputes
from projections.runner import ProjectionRunner
from tests.application.test_disputes import Case, make_case
from tests.builders import make_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def runner_for(case: Case, engine: Engine) -> ProjectionRunner:
    return ProjectionRunner(case.w.store, engine, [DisputesView(), DeadlinesView()], batch_size=3)


def queue(
    runner: ProjectionRunner, engine: Engine, now: datetime, **filters: Any
) -> tuple[list[dict[str, Any]], str | None]:
    runner.catch_up()
    with engine.connect() as conn:
        return list_disputes(conn, runner.tables("disputes"), now=now, **filters)


def test_a_dispute_row_follows_its_life_from_open_to_resolved(engine: Engine) -> None:
    case = make_case()
    runner = runner_for(case, engine)
    opened_at = case.ended_at + timedelta(hours=1)
    dispute_id = case.open(at=opened_at)
    now = opened_at + timedelta(minutes=5)

    [row], _ = queue(runner, engine, now)
    assert row["id"] == str(dispute_id) and row["booking_id"] == str(case.booking_id)
    assert row["status"] == "open" and row["opener_role"] == "owner"
    assert row["opened_by"] == str(case.w.owner.id) and row["type"] == "damage"
    assert row["claimed_amount"] == {"amount": 15_000, "currency": "EUR"}
    assert row["assigned_admin_id"] is None and row["overdue"] is False
    assert datetime.fromisoformat(row["first_action_due"]) == opened_at + timedelta(hours=72)
    assert datetime.fromisoformat(row["resolution_due"]) == opened_at + timedelta(days=7)

    asked_at = opened_at + timedelta(hours=1)
    case.disputes.request_information(
        case.w.admin,
        dispute_id,
        to="renter",
        question="When did you notice?",
        due_at=asked_at + timedelta(days=1),
        at=asked_at,
    )
    [row], _ = queue(runner, engine, now)
    assert row["status"] == "awaiting_information"
    assert row["assigned_admin_id"] == str(case.w.admin.id)  # whoever asked took it
    assert row["first_action_due"] is None
    assert datetime.fromisoformat(row["renter_information_due"]) == asked_at + timedelta(days=1)

    case.disputes.respond(case.w.renter, dispute_id, "On return.", [], asked_at)
    [row], _ = queue(runner, engine, now)
    assert row["status"] == "under_review" and row["renter_information_due"] is None

    case.disputes.resolve(
        case.w.admin,
        dispute_id,
        outcome="rejected",
        refund_to_renter=None,
        deposit_to_owner=None,
        note="No.",
        at=asked_at,
    )
    [row], _ = queue(runner, engine, now + timedelta(days=30))
    assert row["status"] == "resolved" and row["outcome"] == "rejected"
    assert row["resolution_due"] is None and row["overdue"] is False
    assert row["closed_at"] is not None and row["version"] == 4


def _three_disputes() -> tuple[list[Case], list[UUID], datetime]:
    """Three bookings of one world, each disputed an hour apart."""
    w = make_world()
    cases, ids = [], []
    for n in range(3):
        case = make_case(w=w)
        cases.append(case)
        ids.append(case.open(at=case.ended_at + timedelta(hours=1 + n)))
    return cases, ids, cases[0].ended_at


def test_the_queue_filters_by_status_assignee_and_overdue_oldest_first(engine: Engine) -> None:
    cases, ids, ended_at = _three_disputes()
    admin = cases[0].w.admin
    cases[0].disputes.assign(admin, ids[1], None, ended_at + timedelta(hours=5))
    runner = runner_for(cases[0], engine)
    now = ended_at + timedelta(hours=6)

    def ids_of(**filters: Any) -> list[str]:
        return [r["id"] for r in queue(runner, engine, now, **filters)[0]]

    everything = [str(i) for i in ids]
    assert ids_of() == everything
    assert ids_of(status="open") == [everything[0], everything[2]]
    assert ids_of(status="under_review") == [everything[1]]
    assert ids_of(status="live") == everything
    assert ids_of(status="resolved") == []
    assert ids_of(assigned_to=admin.id) == [everything[1]]
    assert ids_of(unassigned=True) == [everything[0], everything[2]]
    assert ids_of(booking_id=cases[2].booking_id) == [everything[2]]
    assert ids_of(overdue=True) == []

    # 72 h after the first opening, the two unassigned ones miss the first-action SLA in turn
    later = ended_at + timedelta(hours=1 + 72)
    late = [r["id"] for r in queue(runner, engine, later, overdue=True)[0]]
    assert late == [everything[0]]
    on_time = [r["id"] for r in queue(runner, engine, later, overdue=False)[0]]
    assert on_time == [everything[1], everything[2]]
    # after 7 days every live one is overdue, assigned or not
    week = ended_at + timedelta(days=8)
    assert [r["id"] for r in queue(runner, engine, week, overdue=True)[0]] == everything


def test_the_queue_pages_with_a_cursor(engine: Engine) -> None:
    cases, ids, ended_at = _three_disputes()
    runner = runner_for(cases[0], engine)
    now = ended_at + timedelta(hours=6)
    first, cursor = queue(runner, engine, now, limit=2)
    assert [r["id"] for r in first] == [str(ids[0]), str(ids[1])] and cursor
    rest, end = queue(runner, engine, now, limit=2, cursor=cursor)
    assert [r["id"] for r in rest] == [str(ids[2])] and end is None


def test_a_rebuild_gives_the_same_rows_as_incremental_processing(engine: Engine) -> None:
    cases, ids, ended_at = _three_disputes()
    cases[0].disputes.withdraw(cases[0].w.owner, ids[0], "Sorted it out", ended_at)
    runner = runner_for(cases[0], engine)
    runner.catch_up()
    table = runner.tables("disputes")["disputes"]
    with engine.connect() as conn:
        before = sorted(tuple(r) for r in conn.execute(select(table)))
    runner.rebuild("disputes")
    table = runner.tables("disputes")["disputes"]
    with engine.connect() as conn:
        after = sorted(tuple(r) for r in conn.execute(select(table)))
    assert after == before and len(after) == 3


def test_a_disputed_booking_has_no_pending_deadline_until_it_completes(engine: Engine) -> None:
    case = make_case()
    runner = runner_for(case, engine)
    window_end = case.booking().deadline("inspection_ends_at")
    assert window_end is not None

    def due_now() -> list[Any]:
        runner.catch_up()
        with engine.connect() as conn:
            return deadlines.due(conn, runner.tables("deadlines"), window_end)

    assert [d.kind for d in due_now()] == ["complete"]
    dispute_id = case.open()
    assert due_now() == []
    case.disputes.resolve(
        case.w.admin,
        dispute_id,
        outcome="rejected",
        refund_to_renter=None,
        deposit_to_owner=None,
        note="No.",
        at=window_end,
    )
    assert due_now() == []  # completed: nothing left for the booking scheduler
