"""Data keys wrapped by a master key (infrastructure/personal_key_table.py), on SQLite and
PostgreSQL: what is sealed opens in another process with the same master key; a dump of
the table (the SQLite file, pg_dump) holds no data key; a wrong or missing master key stops
the key ring at start-up; rotation rewraps every key so the old master key can go; erasure
still destroys; rows kept in the clear before wrapping are read and wrapped at start-up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, select, text

from infrastructure.master_keys import MasterKeyError, MasterKeys
from infrastructure.personal_key_table import keys_by_master_key, personal_keys, rewrap
from infrastructure.personal_keys import SqlKeyRing
from tests.master_key import MASTER
from tests.properties.test_keyring_bounded import views_engine  # noqa: F401 - the fixture

OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)
OLD = MasterKeys({"old": OLD_KEY})


def data_key(ring: SqlKeyRing, subject: UUID) -> bytes:
    """The clear data key the ring holds for `subject` (what a dump must never show)."""
    key = ring._entry(str(subject), create=False).key
    assert key is not None
    return key


def dump(engine: Engine) -> bytes:
    """The table as a backup holds it: the SQLite database file, or pg_dump's output."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        return b"".join(
            Path(url.database + s).read_bytes() for s in ("", "-wal") if _has(url.database + s)
        )
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    command = ["pg_dump", "--data-only", "--table=personal_keys", libpq]
    return subprocess.run(command, check=True, capture_output=True).stdout


def _has(path: str) -> bool:
    return Path(path).exists()


def test_what_one_ring_seals_another_ring_opens_with_the_same_master_key(engine: Engine) -> None:
    subject = uuid4()
    sealed = SqlKeyRing(engine, MASTER).seal(subject, b"aad", b"Ada Lovelace")
    assert sealed is not None
    assert SqlKeyRing(engine, MASTER).open(subject, b"aad", sealed) == b"Ada Lovelace"
    with engine.connect() as conn:
        row = conn.execute(
            select(personal_keys).where(personal_keys.c.subject == str(subject))
        ).one()
    assert row.kek == "test"


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subjects=st.lists(st.uuids(), min_size=1, max_size=8, unique=True))
def test_a_dump_of_the_table_holds_no_data_key_in_the_clear(
    engine: Engine, subjects: list[UUID]
) -> None:
    ring = SqlKeyRing(engine, MASTER)
    for subject in subjects:
        ring.seal(subject, b"aad", b"x")  # made on first use
    backup = dump(engine)
    for subject in subjects:
        key = data_key(ring, subject)
        assert key not in backup and key.hex().encode() not in backup


def test_a_wrong_master_key_under_the_same_id_fails_at_start_up(engine: Engine) -> None:
    SqlKeyRing(engine, MASTER).seal(uuid4(), b"aad", b"x")
    with pytest.raises(MasterKeyError, match="wrong master key"):
        SqlKeyRing(engine, MasterKeys({"test": os.urandom(32)}))


def test_a_missing_master_key_fails_at_start_up(engine: Engine) -> None:
    SqlKeyRing(engine, MASTER).seal(uuid4(), b"aad", b"x")
    with pytest.raises(MasterKeyError, match="'test', which is not configured"):
        SqlKeyRing(engine, OLD)


def test_rotation_rewraps_every_key_and_the_old_master_key_can_then_go(engine: Engine) -> None:
    subjects = [uuid4() for _ in range(5)]
    old_ring = SqlKeyRing(engine, OLD)
    sealed = [old_ring.seal(s, b"aad", s.bytes) for s in subjects]
    old_ring.destroy(subjects[0])
    both = MasterKeys({"new": NEW_KEY, "old": OLD_KEY})  # the new one first: it wraps
    assert rewrap(engine, both) == 4  # every live key; the tombstone stays one
    assert keys_by_master_key(engine) == {"new": 4}
    assert rewrap(engine, both) == 0
    fresh = SqlKeyRing(engine, MasterKeys({"new": NEW_KEY}))
    opened = [fresh.open(s, b"aad", c) for s, c in zip(subjects, sealed, strict=True) if c]
    assert opened == [None] + [s.bytes for s in subjects[1:]]
    with pytest.raises(MasterKeyError, match="'new', which is not configured"):
        SqlKeyRing(engine, OLD)  # the old key alone no longer opens the table


def test_erasure_destroys_the_wrapped_key_and_its_master_key_id(engine: Engine) -> None:
    ring, subject = SqlKeyRing(engine, MASTER), uuid4()
    sealed = ring.seal(subject, b"aad", b"Ada")
    assert sealed is not None
    assert ring.destroy(subject)
    with engine.connect() as conn:
        row = conn.execute(
            select(personal_keys).where(personal_keys.c.subject == str(subject))
        ).one()
    assert (row.key, row.kek) == (None, None)
    assert SqlKeyRing(engine, MASTER).open(subject, b"aad", sealed) is None
    assert rewrap(engine, MASTER) == 0  # a tombstone is never "rewrapped" back


def test_rows_kept_in_the_clear_are_read_and_wrapped_at_start_up(engine: Engine) -> None:
    """A table as deployed before wrapping: no `kek` column, data keys in the clear."""
    subject, key = str(uuid4()), os.urandom(32)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE personal_keys (subject VARCHAR(64) PRIMARY KEY, key BYTEA,"
                " created_at TIMESTAMP WITH TIME ZONE NOT NULL,"
                " destroyed_at TIMESTAMP WITH TIME ZONE)".replace(
                    "BYTEA", "BYTEA" if engine.dialect.name == "postgresql" else "BLOB"
                )
            )
        )
        conn.execute(
            text("INSERT INTO personal_keys VALUES (:s, :k, CURRENT_TIMESTAMP, NULL)"),
            {"s": subject, "k": key},
        )
    ring = SqlKeyRing(engine, MASTER)
    assert ring._entry(subject, create=False).key == key
    with engine.connect() as conn:
        assert "kek" in {c["name"] for c in inspect(conn).get_columns("personal_keys")}
        row = conn.execute(select(personal_keys).where(personal_keys.c.subject == subject)).one()
    assert row.kek == "test" and row.key != key
    assert key not in dump(engine)
