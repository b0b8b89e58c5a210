"""`rentbook admin rebuild` and `ledger-verify` drive their rich progress bars with real
progress (pages applied, events read, up to the head) and still print their result; on the
embedded default and on PostgreSQL (whose ledger verify reads rows in SQL)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import application.ledger
import interfaces.cli.admin as admin_cli
import projections.runner
from application.ledger import LedgerProcess
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from interfaces.cli import progress
from interfaces.cli.main import app
from tests.e2e.test_cli_admin import head, listing_id, settings  # noqa: F401 (fixtures)
from tests.http.test_admin_ledger_verify_http import paid_payment

runner = CliRunner()
Seen = list[tuple[int, int]]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Every (position, head) the command gave its progress bar, which still draws."""
    calls: Seen = []
    real = admin_cli.head_progress

    @contextmanager
    def spy(description: str, total: int) -> Iterator[Callable[[int, int], None]]:
        with real(description, total) as update:

            def both(position: int, at_head: int) -> None:
                calls.append((position, at_head))
                update(position, at_head)

            yield both

    monkeypatch.setattr(admin_cli, "head_progress", spy)
    return calls


def _advances_to(calls: Seen, end: int) -> None:
    positions = [p for p, _ in calls]
    assert len(positions) > 1, calls
    assert positions == sorted(set(positions))  # forward, never twice at one place
    assert calls[-1] == (end, end)


def test_rebuild_reports_each_page_up_to_the_head(
    settings: Settings,  # noqa: F811
    listing_id: str,  # noqa: F811
    seen: Seen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = projections.runner.rebuild_views

    def small_pages(store: Any, engine: Any, lives: Any, batch: int, progress: Any = None) -> int:
        return real(store, engine, lives, 2, progress)

    monkeypatch.setattr(projections.runner, "rebuild_views", small_pages)
    rebuilt = runner.invoke(app, ["admin", "rebuild", "listings"])

    assert rebuilt.exit_code == 0, rebuilt.output
    end = head(settings)
    assert rebuilt.stdout.strip() == f"rebuilt listings up to position {end}"
    _advances_to(seen, end)


def test_ledger_verify_reports_the_events_read_up_to_the_head(
    settings: Settings,  # noqa: F811
    seen: Seen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = build_event_store(settings)
    try:
        for _ in range(3):
            store.record(paid_payment())
        LedgerProcess(store).catch_up()
        end = store.current_position()
    finally:
        store.close()
    monkeypatch.setattr(application.ledger, "REPORT_EVERY", 1)

    result = runner.invoke(app, ["admin", "ledger-verify"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["entries"] == 3 and report["derived_matches_recorded"] is True
    assert report["log_position"] == end
    _advances_to(seen, end)


def test_the_bar_draws_its_count_against_a_head_that_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress, "console", Console(file=out, force_terminal=True, width=100))
    with progress.head_progress("rebuilding listings", 10) as update:
        update(5, 10)
        update(12, 12)  # live writes moved the head while the rebuild chased it
    drawn = out.getvalue()
    assert "rebuilding listings" in drawn and "0/10" in drawn and "12/12" in drawn
