"""The `container` fixture's store is copied from a template (`tests/store_templates.py`):
each copy must be as empty and as fresh as a store built for the test."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.http.conftest import CHEAP_ARGON2, PASSWORD
from tests.store_templates import SqliteTemplates


def _settings(path: Path, **more: object) -> Settings:
    return Settings(environment="test", data_dir=path, **more)  # type: ignore[arg-type]


def _tables(views: Path) -> set[str]:
    with sqlite3.connect(views) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {name for (name,) in rows}


def test_a_copy_holds_nothing_an_earlier_copy_recorded(tmp_path: Path) -> None:
    templates = SqliteTemplates(tmp_path / "templates")
    first = _settings(tmp_path / "first")
    templates.seed(first)
    container = build_container(first, clock=None, mailer=None, **CHEAP_ARGON2)
    container.identity.create_admin("a@example.com", PASSWORD, "Admin", at=datetime.now(UTC))
    assert container.store.current_position() > 0
    container.close()

    second = _settings(tmp_path / "second")
    templates.seed(second)
    container = build_container(second, clock=None, mailer=None, **CHEAP_ARGON2)
    try:
        assert container.store.current_position() == 0
    finally:
        container.close()


def test_a_copy_has_every_table_a_fresh_store_has(tmp_path: Path) -> None:
    build_container(_settings(tmp_path / "fresh")).close()
    templates = SqliteTemplates(tmp_path / "templates")
    copied = _settings(tmp_path / "copied")
    templates.seed(copied)
    assert _tables(copied.data_dir / "views.db") == _tables(tmp_path / "fresh" / "views.db")
    assert _tables(copied.data_dir / "events.db") == _tables(tmp_path / "fresh" / "events.db")


def test_projections_look_set_up_when_the_copy_was_made(tmp_path: Path) -> None:
    templates = SqliteTemplates(tmp_path / "templates")
    templates.seed(_settings(tmp_path / "first"))
    with sqlite3.connect(tmp_path / "templates" / "store-0" / "views.db") as conn:
        conn.execute("UPDATE projection_tracking SET updated_at = '2000-01-01 00:00:00.000000'")
    conn.close()
    before = datetime.now(UTC) - timedelta(seconds=1)
    later = _settings(tmp_path / "later")
    templates.seed(later)
    container = build_container(later)
    try:
        stamps = [row["updated_at"] for row in container.runner.status()]
    finally:
        container.close()
    assert stamps and all(s is not None and s.replace(tzinfo=UTC) >= before for s in stamps)


def test_other_settings_get_a_template_of_their_own(tmp_path: Path) -> None:
    templates = SqliteTemplates(tmp_path / "templates")
    templates.seed(_settings(tmp_path / "a"))
    templates.seed(_settings(tmp_path / "b", search_columns="off"))
    templates.seed(_settings(tmp_path / "c"))
    assert sorted(p.name for p in (tmp_path / "templates").iterdir()) == ["store-0", "store-1"]
