"""The `rentbook` command: create an admin from stdin, seed demo data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings, get_settings
from interfaces.cli.main import app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_create_admin_reads_the_password_from_stdin_and_can_log_in(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "create-admin", "Boss@Example.com", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    container = build_container(Settings(environment="test", data_dir=data_dir))
    try:
        _session, user_id, _ = container.identity.login(
            "boss@example.com", "correct horse battery", at=container.clock.now()
        )
        assert "admin" in container.identity.get_user(user_id).roles
        assert container.identity.get_user(user_id).email_verified  # the operator vouches
    finally:
        container.close()


def test_create_admin_without_password_stdin_refuses(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["users", "create-admin", "x@example.com"])
    assert result.exit_code == 2


def test_demo_data_creates_active_listings_of_every_category(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["demo-data", "--listings", "10"])
    assert result.exit_code == 0, result.output
    container = build_container(Settings(environment="test", data_dir=data_dir))
    try:
        container.runner.catch_up()
        import sqlalchemy as sa

        listings = container.runner.tables("listings")["listings"]
        with container.views.connect() as conn:
            rows = conn.execute(
                sa.select(listings.c.category, listings.c.status, listings.c.spec)
            ).all()
        assert len(rows) == 10
        assert {r.status for r in rows} == {"active"}
        assert all(len(r.spec["photos"]) == 2 for r in rows)  # uploaded by their owners
        assert {r.category for r in rows} == {
            "stay",
            "vehicle",
            "equipment",
            "space",
            "court",
            "other",
        }
    finally:
        container.close()
