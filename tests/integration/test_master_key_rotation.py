"""Rotating the master key with `rentbook admin rewrap-keys` (embedded default and
PostgreSQL), and rewrapping while erasures run: a key destroyed meanwhile stays destroyed
(real threads on real PostgreSQL)."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import infrastructure.personal_key_table as table
from infrastructure.master_keys import KEY_FILE, MasterKeys, master_keys
from infrastructure.personal_key_table import keys_by_master_key, personal_keys, rewrap
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.settings import Settings, get_settings
from infrastructure.views_db import create_views_engine
from interfaces.cli.main import app as cli

OLD_KEY, NEW = os.urandom(32), os.urandom(32)
OLD = MasterKeys({"old": OLD_KEY})


def rewrap_keys(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["admin", "rewrap-keys"], env=env)
    finally:
        get_settings.cache_clear()
    lines = result.stdout.strip().splitlines()
    return result.exit_code, json.loads(lines[-1]) if result.exit_code == 0 else {}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rewrap_keys_moves_every_key_to_the_newest_master_key(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {"RENTBOOK_DATA_DIR": str(tmp_path), "RENTBOOK_ENVIRONMENT": "test"}
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        env["RENTBOOK_DATABASE_URL"] = request.getfixturevalue("pg_url")
        url = env["RENTBOOK_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    engine = create_views_engine(url, pool_size=1)
    try:
        # Rows of the generated key file's master key (the embedded default), as deployed.
        local = master_keys(Settings(environment="test", data_dir=tmp_path))
        ring = SqlKeyRing(engine, local)
        subjects = [uuid4() for _ in range(3)]
        sealed = [ring.seal(s, b"aad", s.bytes) for s in subjects]
        local_line = (tmp_path / KEY_FILE).read_text().strip()
        new_line = f"prod:{base64.b64encode(NEW).decode()}"

        assert rewrap_keys({**env, "RENTBOOK_MASTER_KEYS": new_line})[0] == 2  # local missing
        code, out = rewrap_keys({**env, "RENTBOOK_MASTER_KEYS": f"{new_line},{local_line}"})
        assert code == 0, out
        assert out == {"rewrapped": 3, "master_key": "prod", "keys_by_master_key": {"prod": 3}}
        assert keys_by_master_key(engine) == {"prod": 3}

        fresh = SqlKeyRing(engine, MasterKeys({"prod": NEW}))  # the old key dropped
        opened = [fresh.open(s, b"aad", c) for s, c in zip(subjects, sealed, strict=True) if c]
        assert opened == [s.bytes for s in subjects]
    finally:
        engine.dispose()


def test_a_key_destroyed_while_rewrapping_stays_destroyed(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table, "REWRAP_BATCH", 2)  # many batches: many chances to interleave
    engine = create_views_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        ring = SqlKeyRing(engine, OLD)
        subjects = [uuid4() for _ in range(60)]
        for subject in subjects:
            ring.seal(subject, b"aad", b"x")
        both = MasterKeys({"new": NEW, "old": OLD_KEY})
        erased = subjects[::2]
        start = threading.Barrier(2)

        def erase() -> None:
            start.wait()
            for subject in erased:
                ring.destroy(subject)

        def rotate() -> None:
            start.wait()
            rewrap(engine, both)

        threads = [threading.Thread(target=erase), threading.Thread(target=rotate)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with engine.connect() as conn:
            rows = {r.subject: r for r in conn.execute(select(personal_keys))}
        assert all(rows[str(s)].key is None and rows[str(s)].kek is None for s in erased)
        assert {rows[str(s)].kek for s in subjects[1::2]} == {"new"}
    finally:
        engine.dispose()


class ErasingWhileWrapping(MasterKeys):
    """Erases a subject from another connection (and thread) right after rewrap read its
    row and before it writes it back: the interleaving the threads above may or may not hit."""

    def __init__(self, keys: dict[str, bytes], ring: SqlKeyRing, erased: set[str]) -> None:
        super().__init__(keys)
        self.ring, self.erased = ring, erased

    def wrap(self, subject: str, key: bytes) -> tuple[bytes, str]:
        if subject in self.erased:
            eraser = threading.Thread(target=self.ring.destroy, args=(UUID(subject),))
            eraser.start()
            eraser.join()
        return super().wrap(subject, key)


def test_a_key_erased_between_rewrap_reading_and_writing_it_stays_erased(pg_url: str) -> None:
    engine = create_views_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        ring = SqlKeyRing(engine, OLD)
        subjects = [uuid4() for _ in range(6)]
        for subject in subjects:
            ring.seal(subject, b"aad", b"x")
        erased = {str(s) for s in subjects[::2]}
        both = ErasingWhileWrapping({"new": NEW, "old": OLD_KEY}, ring, erased)
        assert rewrap(engine, both) == 3  # the erased three were not written back
        with engine.connect() as conn:
            rows = {r.subject: r for r in conn.execute(select(personal_keys))}
        assert {(rows[s].key, rows[s].kek) for s in erased} == {(None, None)}
        assert keys_by_master_key(engine) == {"new": 3}
    finally:
        engine.dispose()
