"""The `pg_container` fixture's database is cloned from a template (`tests/store_templates.py`):
each clone must be as empty and as fresh as a database the test's container set up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.conftest import PG_ADMIN_URL, _Dropper
from tests.http.conftest import CHEAP_ARGON2, PASSWORD
from tests.store_templates import PgTemplates

pytestmark = pytest.mark.postgres


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return {name for (name,) in rows}


def test_a_clone_holds_nothing_an_earlier_clone_recorded(
    pg_store_settings: Settings, pg_settings: Settings
) -> None:
    container = build_container(pg_store_settings, clock=None, mailer=None, **CHEAP_ARGON2)
    try:
        container.identity.create_admin("a@example.com", PASSWORD, "A", at=datetime.now(UTC))
        assert container.store.current_position() > 0
    finally:
        container.close()
    # pg_settings' fresh database gets its tables from the container, as before templates
    fresh = build_container(pg_settings, clock=None, mailer=None, **CHEAP_ARGON2)
    fresh.close()
    assert pg_store_settings.database_url and pg_settings.database_url
    assert _tables(pg_store_settings.database_url) == _tables(pg_settings.database_url)


def test_a_later_clone_is_empty_and_stamped_when_cloned(
    pg_settings: Settings, _pg_dropper: _Dropper, tmp_path: Path
) -> None:
    templates = PgTemplates(PG_ADMIN_URL, tmp_path / "templates")
    tag = uuid.uuid4().hex[:12]
    first = templates.clone(f"rentbook_t_{tag}a", pg_settings)
    later_name = f"rentbook_t_{tag}b"
    try:
        container = build_container(first, clock=None, mailer=None, **CHEAP_ARGON2)
        container.identity.create_admin("a@example.com", PASSWORD, "A", at=datetime.now(UTC))
        container.close()
        (template,) = templates.names
        with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + template) as conn:
            conn.execute("UPDATE projection_tracking SET updated_at = '2000-01-01T00:00:00Z'")
        before = datetime.now(UTC) - timedelta(seconds=1)
        later = templates.clone(later_name, pg_settings)
        container = build_container(later, clock=None, mailer=None, **CHEAP_ARGON2)
        try:
            assert container.store.current_position() == 0
            stamps = [row["updated_at"] for row in container.runner.status()]
        finally:
            container.close()
        assert stamps and all(s is not None and s >= before for s in stamps)
    finally:
        for name in (f"rentbook_t_{tag}a", later_name, *templates.names):
            _pg_dropper.drop(name)
