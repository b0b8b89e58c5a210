"""Tamper evidence: an untouched log verifies; an edit made behind the application's back
(as the owner role on PostgreSQL, in the file on SQLite) fails verification at exactly the
edited event, and a removed stream tail fails its checkpoint."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID

import psycopg
import pytest

from application.store import EventStore
from infrastructure.audit_log import BrokenLink, seal_checkpoint, start_checkpoints, verify_log
from infrastructure.db_roles import log_tables, migrate
from infrastructure.event_log import open_event_log
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import World, make_world
from tests.integration.log_roles import SplitRoles, split_roles_fixture  # noqa: F401
from tests.polling import eventually

EVENTS = log_tables()[0]


class Tamper(Protocol):
    def edit_state(self, stream: UUID, version: int) -> None: ...
    def delete(self, stream: UUID, version: int) -> None: ...


@dataclass
class SqliteTamper:
    path: Path

    def _run(self, sql: str, stream: UUID, version: int) -> None:
        with sqlite3.connect(self.path) as conn:
            changed = conn.execute(sql, (stream.hex, version)).rowcount
        assert changed == 1

    def edit_state(self, stream: UUID, version: int) -> None:
        self._run(
            "UPDATE stored_events SET state = CAST(state || ' ' AS BLOB) "
            "WHERE originator_id = ? AND originator_version = ?",
            stream,
            version,
        )

    def delete(self, stream: UUID, version: int) -> None:
        self._run(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            stream,
            version,
        )


@dataclass
class OwnerTamper:
    owner_url: str

    def _run(self, sql: str, stream: UUID, version: int) -> None:
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            assert conn.execute(sql, (stream, version)).rowcount == 1

    def edit_state(self, stream: UUID, version: int) -> None:
        self._run(
            f"UPDATE {EVENTS} SET state = state || ' '::bytea "
            "WHERE originator_id = %s AND originator_version = %s",
            stream,
            version,
        )

    def delete(self, stream: UUID, version: int) -> None:
        self._run(
            f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = %s",
            stream,
            version,
        )


@dataclass
class Log:
    settings: Settings
    store: EventStore
    world: World
    tamper: Tamper

    def position_of(self, stream: UUID, version: int) -> int:
        with open_event_log(self.settings) as log:
            for row in log.page(0, 10_000):
                if (row.stream_id, row.version) == (stream, version):
                    return row.notification_id
        raise AssertionError("no such event")

    def verify(self) -> BrokenLink | None:
        with open_event_log(self.settings) as log:
            return verify_log(log).broken


@pytest.fixture(params=["sqlite", "postgres"])
def audited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    tamper: Tamper
    if request.param == "sqlite":
        settings = Settings(environment="test", data_dir=tmp_path)
        tamper = SqliteTamper(tmp_path / "events.db")
    else:
        roles: SplitRoles = request.getfixturevalue("split_roles")
        settings = Settings(
            environment="test",
            database_url=roles.app_url,
            migration_database_url=roles.owner_url,
            data_dir=tmp_path,
            postgres_pool_size=2,
        )
        migrate(settings)
        tamper = OwnerTamper(roles.owner_url)
    store = build_event_store(settings)
    try:
        yield Log(settings, store, make_world(store), tamper)
    finally:
        store.close()


def _two_listings(log: Log) -> tuple[UUID, UUID]:
    return log.world.active_listing(), log.world.active_listing()


def test_an_untouched_log_verifies_with_its_checkpoints(audited: Log) -> None:
    _two_listings(audited)
    with open_event_log(audited.settings) as log:
        first = seal_checkpoint(log)
        audited.world.active_listing()
        second = seal_checkpoint(log)
        assert seal_checkpoint(log) is None  # nothing new
        report = verify_log(log)
    assert first is not None and second is not None
    assert second.checkpoint_id == first.checkpoint_id + 1
    assert report.ok and report.checkpoints_checked == 2
    assert report.events_checked == report.log_position == second.last_notification_id


def test_an_edited_event_fails_verification_at_exactly_that_event(audited: Log) -> None:
    first, _second = _two_listings(audited)
    audited.world.active_listing()
    position = audited.position_of(first, 2)
    audited.tamper.edit_state(first, 2)
    assert audited.verify() == BrokenLink("hash_mismatch", position, first, 2)


def test_a_removed_middle_event_breaks_the_stream_at_the_next_one(audited: Log) -> None:
    first, _ = _two_listings(audited)
    position = audited.position_of(first, 3)
    audited.tamper.delete(first, 2)
    assert audited.verify() == BrokenLink("version_gap", position, first, 3)


def test_a_removed_stream_tail_fails_the_checkpoint_that_sealed_it(audited: Log) -> None:
    _first, second = _two_listings(audited)
    with open_event_log(audited.settings) as log:
        sealed = seal_checkpoint(log)
    assert sealed is not None
    audited.tamper.delete(second, 3)  # the last event of the last stream: no later link
    broken = audited.verify()
    assert broken is not None and broken.reason == "checkpoint_mismatch"
    assert broken.checkpoint_id == sealed.checkpoint_id


def test_the_checkpointer_seals_new_events_periodically(audited: Log) -> None:
    _two_listings(audited)
    stop = threading.Event()
    thread = start_checkpoints(lambda: open_event_log(audited.settings), stop, 0.05)
    try:

        def sealed() -> bool:
            with open_event_log(audited.settings) as log:
                return bool(log.checkpoints())

        eventually(sealed, "a checkpoint", interval=0.05)
    finally:
        stop.set()
        thread.join(5)
    with open_event_log(audited.settings) as log:
        report = verify_log(log)
    assert report.ok and report.checkpoints_checked >= 1


def test_migrate_hashes_events_stored_before_the_chain_existed(audited: Log) -> None:
    _two_listings(audited)
    with open_event_log(audited.settings, as_owner=True) as log:
        rows = log.page(0, 100)
    _forget_hashes(audited)
    broken = audited.verify()
    assert broken is not None and broken.reason == "missing_hash"
    migrate(audited.settings)
    assert audited.verify() is None
    with open_event_log(audited.settings) as log:
        assert log.page(0, 100) == rows  # the same hashes the store computed


def _forget_hashes(log: Log) -> None:
    if log.settings.database_url:
        with psycopg.connect(log.settings.migration_database_url or "", autocommit=True) as conn:
            conn.execute(f"UPDATE {EVENTS} SET hash = NULL")
    else:
        with sqlite3.connect(log.settings.data_dir / "events.db") as conn:
            conn.execute("DELETE FROM event_hashes")
