"""The log's CLI: `db migrate` with two roles, `audit verify` / `audit checkpoint`, and
`events export` / `events verify-export`, on SQLite and PostgreSQL (typer's CliRunner)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from infrastructure.db_roles import log_tables
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings, get_settings
from interfaces.cli.main import app
from tests.builders import make_world
from tests.integration.log_roles import SplitRoles, split_roles_fixture  # noqa: F401

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def pg_env(
    split_roles: SplitRoles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    monkeypatch.setenv("RENTBOOK_DATABASE_URL", split_roles.app_url)
    monkeypatch.setenv("RENTBOOK_MIGRATION_DATABASE_URL", split_roles.owner_url)
    monkeypatch.setenv("RENTBOOK_POSTGRES_POOL_SIZE", "2")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def seed(settings: Settings, listings: int = 3) -> int:
    """Active listings of one verified owner; returns the log's head (its event count)."""
    store = build_event_store(settings)
    try:
        world = make_world(store)
        for _ in range(listings):
            world.active_listing()
        return store.current_position()
    finally:
        store.close()


def export(tmp_path: Path, *bounds: str) -> list[dict[str, object]]:
    out = tmp_path / "export.jsonl"
    code, _ = invoke("events", "export", *bounds, "--output", str(out))
    assert code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def write(tmp_path: Path, lines: list[dict[str, object]]) -> Path:
    path = tmp_path / "edited.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_full_export_verifies_and_carries_every_hash(
    sqlite_env: Settings, tmp_path: Path
) -> None:
    n = seed(sqlite_env)
    lines = export(tmp_path)
    assert [line["notification_id"] for line in lines] == list(range(1, n + 1))
    assert all(len(str(line["hash"])) == 64 for line in lines)
    code, out = invoke("events", "verify-export", str(tmp_path / "export.jsonl"))
    assert (code, out.strip()) == (0, f"ok: {n} events verified")


def test_an_export_between_positions_starts_mid_stream_and_still_verifies(
    sqlite_env: Settings, tmp_path: Path
) -> None:
    seed(sqlite_env)
    lines = export(tmp_path, "--from", "3", "--to", "6")
    assert [line["notification_id"] for line in lines] == [3, 4, 5, 6]
    assert lines[0]["version"] == 2 and lines[0]["prev_hash"] != "00" * 32
    assert invoke("events", "verify-export", str(tmp_path / "export.jsonl"))[0] == 0


def test_instant_bounds_select_by_recorded_time(sqlite_env: Settings, tmp_path: Path) -> None:
    n = seed(sqlite_env, listings=1)
    assert len(export(tmp_path, "--from", "2000-01-01T00:00:00Z", "--to", "2999-01-01")) == n
    assert export(tmp_path, "--from", "2999-01-01T00:00:00+00:00") == []
    code, _ = invoke("events", "export", "--from", "yesterday")
    assert code == 2


def test_verify_export_names_the_edited_line(sqlite_env: Settings, tmp_path: Path) -> None:
    seed(sqlite_env)
    lines = export(tmp_path)
    state = base64.b64decode(str(lines[6]["state"])).replace(b'"', b"'", 1)
    lines[6]["state"] = base64.b64encode(state).decode()
    code, out = invoke("events", "verify-export", str(write(tmp_path, lines)))
    assert code == 1
    assert out.startswith(f"BROKEN (hash_mismatch) at line 7 (stream {lines[6]['stream_id']}")


def test_verify_export_names_the_line_after_a_removed_one(
    sqlite_env: Settings, tmp_path: Path
) -> None:
    seed(sqlite_env)
    lines = export(tmp_path)
    del lines[6]  # version 2 of the second listing: its version 3 no longer links
    code, out = invoke("events", "verify-export", str(write(tmp_path, lines)))
    assert code == 1 and out.startswith("BROKEN (chain_break) at line 7")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"notification_id": 1}\n')
    assert invoke("events", "verify-export", str(garbage)) == (
        1,
        "BROKEN (unreadable) at line 1\n",
    )


def test_audit_verify_and_checkpoint_on_sqlite(sqlite_env: Settings) -> None:
    n = seed(sqlite_env)
    assert invoke("audit", "checkpoint")[1].startswith(f"checkpoint 1: {n} events up to {n}")
    assert invoke("audit", "checkpoint") == (0, "nothing to seal\n")
    assert invoke("audit", "verify") == (
        0,
        f"ok: {n} events and 1 checkpoints verified up to position {n}\n",
    )


def test_migrate_then_verify_export_and_tamper_on_postgres(
    pg_env: Settings, split_roles: SplitRoles, tmp_path: Path
) -> None:
    code, out = invoke("db", "migrate")
    assert code == 0, out
    seed(pg_env)
    assert invoke("audit", "verify")[0] == 0
    assert len(export(tmp_path, "--from", "2", "--to", "11")) == 10
    assert invoke("events", "verify-export", str(tmp_path / "export.jsonl"))[0] == 0
    with psycopg.connect(split_roles.owner_url, autocommit=True) as conn:
        stream, version, position = conn.execute(
            f"UPDATE {log_tables()[0]} SET state = state || ' '::bytea WHERE notification_id = 7 "
            "RETURNING originator_id, originator_version, notification_id"
        ).fetchone() or (None, None, None)
    code, out = invoke("audit", "verify")
    assert code == 1
    assert out.startswith(
        f"BROKEN (hash_mismatch) at stream {stream} version {version}, notification id {position}"
    )
    assert invoke("db", "grant")[0] == 0  # idempotent


def test_grant_needs_both_urls_and_a_migrated_store(
    pg_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = invoke("db", "grant")
    assert code == 1  # nothing migrated yet: PostgreSQL's error, not a traceback
    monkeypatch.delenv("RENTBOOK_MIGRATION_DATABASE_URL")
    get_settings.cache_clear()
    assert invoke("db", "grant")[0] == 2
