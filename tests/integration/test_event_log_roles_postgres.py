"""The event log is append-only by the database: migrated by the owner role, written by an
application role that PostgreSQL refuses UPDATE, DELETE and TRUNCATE on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from infrastructure.audit_log import verify_log
from infrastructure.bootstrap import build_container
from infrastructure.db_roles import log_tables, migrate
from infrastructure.event_log import open_event_log
from infrastructure.eventstore import event_store_env
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, Api, https_client, make_app
from tests.http.test_bookings_http import Market, open_listing
from tests.integration.log_roles import SplitRoles, split_roles_fixture  # noqa: F401

EVENTS, SNAPSHOTS, CHECKPOINTS = log_tables()


def _settings(roles: SplitRoles, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=roles.app_url,
        migration_database_url=roles.owner_url,
        data_dir=tmp_path / "var",
        postgres_pool_size=2,
        postgres_max_overflow=4,
    )


@pytest.fixture
def app_api(split_roles: SplitRoles, tmp_path: Path) -> Iterator[Api]:
    settings = _settings(split_roles, tmp_path)
    assert migrate(settings) == split_roles.app
    assert migrate(settings) == split_roles.app  # a second run changes nothing
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    # As in the compose file: the application's processes never see the owner's URL.
    app_settings = settings.model_copy(
        update={"migration_database_url": None, "create_event_tables": False}
    )
    container = build_container(app_settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.start_workers(scheduler_interval=0.5)
    try:
        with https_client(make_app(container)) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def test_the_application_role_books_but_cannot_rewrite_the_log(
    app_api: Api, split_roles: SplitRoles
) -> None:
    owner, admin, renter = app_api.new_user(), app_api.admin(), app_api.new_user()
    market = Market(app_api, owner, admin, renter, open_listing(app_api, owner, admin))
    booking = market.placed()
    assert booking["status"] == "pending_payment"

    with psycopg.connect(split_roles.app_url, autocommit=True) as conn:
        for statement in (
            f"UPDATE {EVENTS} SET topic = topic",
            f"DELETE FROM {EVENTS}",
            f"TRUNCATE {EVENTS}",
            f"UPDATE {SNAPSHOTS} SET topic = topic",
            f"DELETE FROM {CHECKPOINTS}",
            f"ALTER TABLE {EVENTS} DISABLE TRIGGER ALL",
            f"CREATE TRIGGER skip BEFORE INSERT ON {EVENTS} "
            f"FOR EACH ROW EXECUTE FUNCTION {EVENTS}_hash()",
            "SET session_replication_role = replica",  # would skip triggers
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        stored = conn.execute(
            f"SELECT count(*) FROM {EVENTS} WHERE originator_id = %s", (booking["id"],)
        ).fetchone()
        assert stored == (1,)


def test_only_the_migration_creates_event_tables(split_roles: SplitRoles, tmp_path: Path) -> None:
    settings = _settings(split_roles, tmp_path)
    owner = event_store_env(settings, as_owner=True)
    assert (owner["POSTGRES_USER"], owner["CREATE_TABLE"]) == (split_roles.owner, "y")
    app = event_store_env(settings)
    assert (app["POSTGRES_USER"], app["CREATE_TABLE"]) == (split_roles.app, "n")
    compose = settings.model_copy(
        update={"migration_database_url": None, "create_event_tables": False}
    )
    assert event_store_env(compose)["CREATE_TABLE"] == "n"
    one_role = settings.model_copy(update={"migration_database_url": None})
    assert event_store_env(one_role)["CREATE_TABLE"] == "y"  # development, tests: unchanged


def test_a_hash_supplied_by_the_application_role_is_replaced(
    app_api: Api, split_roles: SplitRoles, tmp_path: Path
) -> None:
    stream = uuid.uuid4()
    with psycopg.connect(split_roles.app_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state, hash) "
            "VALUES (%s, 1, 'forged:Event', '{}'::bytea, %s)",
            (stream, b"\x00" * 32),
        )
    with open_event_log(_settings(split_roles, tmp_path)) as log:
        row = next(r for r in log.page(0, 10_000) if r.stream_id == stream)
        assert row.hash != b"\x00" * 32
        assert verify_log(log).ok
