"""The encrypting mapper and the key ring: personal fields are sealed in stored events and
snapshots, read back while the key lives and as erased once it is destroyed; events stored
in plaintext by older code read as they were; nothing is sealed for an erased subject."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from application.erasure import Erasure
from application.identity import Identity
from application.store import EventStore
from domain.personal_data import ERASED
from domain.user import User
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.sessions import InMemorySessionStore
from infrastructure.views_db import create_views_engine
from tests.builders import NOW, identity_of
from tests.master_key import MASTER

NAME, EMAIL, PHONE = "Quintessa Marchbank", "quintessa@example.com", "+44 20 7946 0000"


@pytest.fixture
def keyring(tmp_path: Path) -> SqlKeyRing:
    return SqlKeyRing(create_views_engine(f"sqlite:///{tmp_path / 'views.db'}"), MASTER)


def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}


def registered(store: EventStore) -> UUID:
    user = User.register(EMAIL, NAME, PHONE, "hash", NOW)
    user.update_profile(bio="Plays the theremin", at=NOW)
    store.record(user)
    return user.id


def raw_states(store: EventStore) -> bytes:
    notes = store.recorder.select_notifications(0, 1000, inclusive_of_start=False)
    return b"".join(n.state for n in notes)


def test_personal_fields_are_sealed_and_read_back_until_the_key_is_destroyed(
    tmp_path: Path, keyring: SqlKeyRing
) -> None:
    store = EventStore(sqlite_env(tmp_path), keyring=keyring)
    user_id = registered(store)
    stored = raw_states(store)
    assert (
        NAME.encode() not in stored and EMAIL.encode() not in stored and b"theremin" not in stored
    )
    user: User = store.repository.get(user_id)
    assert (user.name, user.email, user.phone, user.bio) == (
        NAME,
        EMAIL,
        PHONE,
        "Plays the theremin",
    )

    assert keyring.destroy(user_id)
    fresh = EventStore(sqlite_env(tmp_path), keyring=SqlKeyRing(keyring._engine, MASTER))
    erased: User = fresh.repository.get(user_id)
    assert (erased.name, erased.email, erased.phone, erased.bio) == (ERASED, ERASED, None, ERASED)
    assert raw_states(fresh) == stored  # not a byte changed: the hash chain holds


def test_snapshots_are_sealed_too(tmp_path: Path, keyring: SqlKeyRing) -> None:
    store = EventStore(sqlite_env(tmp_path), keyring=keyring)
    user_id = registered(store)
    store.take_snapshot(user_id)
    assert store.snapshots is not None
    snaps = store.snapshots.recorder.select_events(user_id)
    assert snaps and NAME.encode() not in snaps[-1].state
    assert store.repository.get(user_id).name == NAME
    keyring.destroy(user_id)
    assert store.repository.get(user_id).name == ERASED


def test_events_stored_in_plaintext_by_older_code_read_as_they_were_until_erased(
    tmp_path: Path, keyring: SqlKeyRing
) -> None:
    legacy = EventStore(sqlite_env(tmp_path))  # no key ring: how events were stored before
    user_id = registered(legacy)
    assert NAME.encode() in raw_states(legacy)
    store = EventStore(sqlite_env(tmp_path), keyring=keyring)
    user: User = store.repository.get(user_id)
    assert (user.name, user.email) == (NAME, EMAIL)
    user.update_profile(name="Quin Marchbank", at=NOW)  # later edits are sealed
    store.record(user)
    assert b"Quin Marchbank" not in raw_states(store)
    assert store.repository.get(user_id).name == "Quin Marchbank"

    keyring.destroy(user_id)  # erased: the old plaintext reads as erased too
    first: User = store.repository.get(user_id, version=1)
    assert (first.name, first.email, first.phone) == (ERASED, ERASED, None)
    assert NAME.encode() in raw_states(store)  # though the stored bytes keep it


def test_nothing_is_sealed_for_an_erased_subject(keyring: SqlKeyRing) -> None:
    subject = uuid4()
    sealed = keyring.seal(subject, b"aad", b"secret")
    assert sealed is not None and keyring.open(subject, b"aad", sealed) == b"secret"
    assert keyring.destroy(subject) and not keyring.destroy(subject)
    assert keyring.seal(subject, b"aad", b"more") is None
    assert keyring.open(subject, b"aad", sealed) is None
    other = SqlKeyRing(keyring._engine, MASTER)  # another process: the tombstone is in the table
    assert other.seal(subject, b"aad", b"more") is None
    never = uuid4()
    keyring.destroy(never)  # erasing a subject with no key yet leaves a tombstone
    assert keyring.seal(never, b"aad", b"x") is None


def test_an_erasure_that_stopped_before_destroying_the_keys_completes_when_repeated(
    tmp_path: Path, keyring: SqlKeyRing
) -> None:
    store = EventStore(sqlite_env(tmp_path), keyring=keyring)
    identity: Identity = identity_of(store)
    user_id, _ = identity.register(EMAIL, "correct horse battery", NAME, PHONE, at=NOW)
    user: User = store.repository.get(user_id)
    user.erase(user_id, "user", NOW)  # recorded, then the process died
    store.record(user)
    assert store.repository.get(user_id, version=1).name == NAME  # keys still there

    rebuilt: list[int] = []

    def rebuild(_subject: UUID) -> int:
        rebuilt.append(1)
        return 0

    erasure = Erasure(store, identity.hasher, InMemorySessionStore(), rebuild)
    erasure.erase_by_admin(user_id, by_admin=admin_of(identity), at=NOW)
    assert store.repository.get(user_id, version=1).name == ERASED and rebuilt == [1]
    again, _ = identity.register(EMAIL, "correct horse battery", "New", at=NOW)
    assert again != user_id


def admin_of(identity: Identity) -> UUID:
    admin_id, _, _ = identity.create_admin(
        "root@example.com", "correct horse battery", "Root", at=NOW
    )
    return admin_id
