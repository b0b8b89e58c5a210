"""`rentbook admin`: history, time travel, projections status and rebuild, ledger verify; on
the embedded default and on PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.ledger import LedgerProcess
from infrastructure.bootstrap import build_container
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings, get_settings
from interfaces.cli.main import app
from tests.application.test_ledger_process import forged_entry
from tests.builders import make_world
from tests.http.test_admin_ledger_verify_http import paid_payment

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    if request.param == "postgres":  # the CLI reads its settings from the environment
        monkeypatch.setenv("RENTBOOK_DATABASE_URL", request.getfixturevalue("pg_url"))
        monkeypatch.setenv("RENTBOOK_POSTGRES_POOL_SIZE", "4")  # the server is shared
        monkeypatch.setenv("RENTBOOK_POSTGRES_MAX_OVERFLOW", "8")
    else:
        monkeypatch.delenv("RENTBOOK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.uses_postgres == (request.param == "postgres")
    yield settings
    get_settings.cache_clear()


def head(settings: Settings) -> int:
    store = build_event_store(settings)
    try:
        return store.current_position()
    finally:
        store.close()


@pytest.fixture
def listing_id(settings: Settings) -> str:
    store = build_event_store(settings)
    try:
        return str(make_world(store).active_listing())
    finally:
        store.close()


def test_history_prints_every_event_of_the_stream(listing_id: str) -> None:
    result = runner.invoke(app, ["admin", "history", listing_id])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "Listing.Created"),
        (2, "Listing.Submitted"),
        (3, "Listing.Approved"),
    ]
    later = runner.invoke(app, ["admin", "history", listing_id, "--from-version", "3"])
    assert [json.loads(line)["version"] for line in later.stdout.splitlines()] == [3]


def test_state_travels_to_a_version_and_refuses_unknown_ones(listing_id: str) -> None:
    draft = runner.invoke(app, ["admin", "state", listing_id, "--version", "1"])
    assert draft.exit_code == 0, draft.output
    assert json.loads(draft.stdout)["version"] == 1
    now = json.loads(runner.invoke(app, ["admin", "state", listing_id]).stdout)
    assert now["version"] == 3 and now["type"] == "Listing"
    assert runner.invoke(app, ["admin", "state", listing_id, "--version", "9"]).exit_code == 1
    before = runner.invoke(app, ["admin", "state", listing_id, "--at", "2000-01-01T00:00:00"])
    assert before.exit_code == 1
    assert runner.invoke(app, ["admin", "history", str(uuid.uuid4())]).exit_code == 1


def test_projections_status_and_rebuild(settings: Settings, listing_id: str) -> None:
    status = runner.invoke(app, ["admin", "projections"])
    assert status.exit_code == 0, status.output
    assert "listings" in status.stdout
    rebuilt = runner.invoke(app, ["admin", "rebuild", "listings"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.strip() == f"rebuilt listings up to position {head(settings)}"
    assert runner.invoke(app, ["admin", "rebuild", "nope"]).exit_code == 2


def test_ledger_verify_on_a_log_without_payments_is_balanced(
    settings: Settings, listing_id: str
) -> None:
    result = runner.invoke(app, ["admin", "ledger-verify"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["balanced"] is True and report["derived_matches_recorded"] is True
    assert report["log_position"] == head(settings)


def test_ledger_verify_reports_lag_then_catches_a_forged_entry(settings: Settings) -> None:
    store = build_event_store(settings)
    try:
        store.record(paid_payment())
        behind = runner.invoke(app, ["admin", "ledger-verify"])
        LedgerProcess(store).catch_up()
        caught_up = runner.invoke(app, ["admin", "ledger-verify"])
        store.record(forged_entry())
        forged = runner.invoke(app, ["admin", "ledger-verify"])
    finally:
        store.close()

    lagging = json.loads(behind.stdout)
    assert behind.exit_code == 0, behind.output
    assert lagging["derived_matches_recorded"] is True
    assert lagging["lag"] > 0 and lagging["ledger_position"] == 0
    assert caught_up.exit_code == 0 and json.loads(caught_up.stdout)["lag"] == 0
    assert json.loads(caught_up.stdout)["entries"] == 1
    assert forged.exit_code == 1
    assert json.loads(forged.stdout)["derived_matches_recorded"] is False


def test_state_at_an_instant_and_secrets_redacted(settings: Settings, listing_id: str) -> None:
    later = runner.invoke(app, ["admin", "state", listing_id, "--at", "2999-01-01T00:00:00"])
    assert json.loads(later.stdout)["version"] == 3
    container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
    try:
        user_id, _, _ = container.identity.create_admin(
            "boss@example.com", "correct horse battery", "Boss", at=container.clock.now()
        )
    finally:
        container.close()
    for command in (["state", str(user_id)], ["history", str(user_id)]):
        result = runner.invoke(app, ["admin", *command])
        assert result.exit_code == 0, result.output
        assert "[redacted]" in result.stdout and "argon2" not in result.stdout
