"""Start-up of master-key wrapping at scale and together: a legacy table of many pages on
SQLite leaves no clear data key in the file or its write-ahead log; several key rings
starting at once on PostgreSQL (API workers and `rentbook project`) wrap each legacy row
once, every row still opening to its data key (and a reader blocking SQLite's checkpoint is
reported); processes making the embedded default's key file at once all end up with one key,
and two data dirs' generated keys on one database are told apart."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
import threading
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, select, text

from infrastructure.master_keys import KEY_FILE, MasterKeyError, MasterKeys, master_keys
from infrastructure.personal_key_table import personal_keys
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from tests.master_key import MASTER

LEGACY_ROWS = 2500  # more than two rewrap batches, many pages


def legacy_table(engine: Engine, rows: int) -> dict[str, bytes]:
    """The table as deployed before wrapping (no `kek`), `rows` data keys in the clear."""
    blob = "BYTEA" if engine.dialect.name == "postgresql" else "BLOB"
    keys = {str(uuid4()): os.urandom(32) for _ in range(rows)}
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE personal_keys (subject VARCHAR(64) PRIMARY KEY, key {blob},"
                " created_at TIMESTAMP WITH TIME ZONE NOT NULL,"
                " destroyed_at TIMESTAMP WITH TIME ZONE)"
            )
        )
        conn.execute(
            text("INSERT INTO personal_keys VALUES (:s, :k, CURRENT_TIMESTAMP, NULL)"),
            [{"s": subject, "k": key} for subject, key in keys.items()],
        )
    return keys


def assert_all_wrapped(engine: Engine, keys: dict[str, bytes]) -> None:
    with engine.connect() as conn:
        rows = conn.execute(select(personal_keys)).all()
    assert {row.subject for row in rows} == set(keys)
    for row in rows:
        assert row.kek == "test"
        assert MASTER.unwrap(row.subject, row.key, row.kek) == keys[row.subject]


def test_a_legacy_table_of_many_pages_leaves_no_clear_key_in_the_sqlite_files(
    tmp_path: Path,
) -> None:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    try:
        keys = legacy_table(engine, LEGACY_ROWS)
        SqlKeyRing(engine, MASTER)
        assert_all_wrapped(engine, keys)
    finally:
        engine.dispose()
    files = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert [s for s, key in keys.items() if key in files] == []


def test_key_rings_starting_together_on_postgres_wrap_each_legacy_row_once(pg_url: str) -> None:
    setup = create_views_engine(pg_url, pool_size=1)
    keys = legacy_table(setup, LEGACY_ROWS)
    setup.dispose()
    starters = 4
    engines = [create_views_engine(pg_url, pool_size=1) for _ in range(starters)]
    barrier, errors = threading.Barrier(starters), []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            SqlKeyRing(engine, MASTER)
        except Exception as error:  # collected: asserted below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert_all_wrapped(engines[0], keys)
        ring = SqlKeyRing(engines[0], MASTER)
        subject = next(iter(keys))
        assert ring._entry(subject, create=False).key == keys[subject]
    finally:
        for engine in engines:
            engine.dispose()


def _key_of(data_dir: str, barrier: Barrier, out: Queue[str]) -> None:
    barrier.wait()
    wrapped, kek = master_keys(Settings(data_dir=Path(data_dir))).wrap("s", b"k" * 32)
    out.put((wrapped + b"|" + kek.encode()).hex())


def test_processes_making_the_key_file_together_share_one_key(tmp_path: Path) -> None:
    """Each process wraps with the key it read; every wrap opens with the file's key."""
    processes = 6
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(processes), context.Queue()
    starters = [
        context.Process(target=_key_of, args=(str(tmp_path), barrier, out))
        for _ in range(processes)
    ]
    for process in starters:
        process.start()
    wraps = [out.get(timeout=60) for _ in starters]
    for process in starters:
        process.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]  # no draft left behind
    ring = master_keys(Settings(data_dir=tmp_path))
    for wrap in wraps:
        wrapped, kek = bytes.fromhex(wrap).rsplit(b"|", 1)
        assert ring.unwrap("s", wrapped, kek.decode()) == b"k" * 32


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_the_key_file_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        master_keys(Settings(data_dir=tmp_path))
    finally:
        os.umask(old)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_key_files_of_two_data_dirs_on_one_database_can_be_told_apart(
    pg_url: str, tmp_path: Path
) -> None:
    """Two processes without a configured key, on one PostgreSQL database but different
    data dirs, each generate a key and start together on the empty table: their rows must
    name different master keys, so the next start says which key is missing and a ring of
    both (then a rewrap) reads everything."""
    first, second = (master_keys(Settings(data_dir=tmp_path / d)) for d in ("a", "b"))
    assert first.current != second.current
    engine = create_views_engine(pg_url, pool_size=1)
    try:
        one, other = SqlKeyRing(engine, first), SqlKeyRing(engine, second)
        keys = {s: ring._entry(s, create=True).key for s, ring in (("s1", one), ("s2", other))}
        with pytest.raises(MasterKeyError, match=f"{second.current}.*not configured"):
            SqlKeyRing(engine, first)
        files = [(tmp_path / d / KEY_FILE).read_text().strip() for d in ("a", "b")]
        both = MasterKeys.parse(",".join(files))
        ring = SqlKeyRing(engine, both)
        assert {s: ring._entry(s, create=False).key for s in keys} == keys
    finally:
        engine.dispose()


def test_a_reader_blocking_the_sqlite_checkpoint_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process reading throughout the migration keeps the clear pages in the file:
    the start-up says so rather than claiming they are gone."""
    path = tmp_path / "views.db"
    engine = create_views_engine(f"sqlite:///{path}", pool_size=2)
    reader = sqlite3.connect(path)
    try:
        legacy_table(engine, 50)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM personal_keys").fetchone()  # holds its snapshot
        with caplog.at_level(logging.WARNING):
            SqlKeyRing(engine, MASTER)
        assert "clear data keys may remain" in caplog.text
    finally:
        reader.close()
        engine.dispose()
