"""What a key ring's start-up costs on a big `personal_keys` table: `prepare` (the schema
upgrade, the master-key check and the scan for legacy clear rows) over N rows, one in five
a tombstone, on SQLite and on PostgreSQL (a database of its own, dropped after); and the
first start over a legacy table (every live key in the clear), which wraps them all. Prints
JSON: CPU and wall seconds per start-up.

    python bench/keyring_startup.py [--rows 300000] [--repeat 3] [--pg postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, insert

from infrastructure.master_keys import MasterKeys
from infrastructure.personal_key_table import personal_keys, prepare
from infrastructure.views_db import create_views_engine
from projections.base import write_transaction

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fill(engine: Engine, master: MasterKeys, rows: int, *, clear: bool = False) -> None:
    prepare(engine, master)
    now, batch = datetime.now(UTC), []
    for i in range(rows):
        subject = str(uuid.uuid4())
        key, kek = master.wrap(subject, os.urandom(32)) if i % 5 else (None, None)
        if clear and kek is not None:  # as a row from before master keys
            key, kek = os.urandom(32), None
        batch.append({"subject": subject, "key": key, "kek": kek, "created_at": now})
    with write_transaction(engine) as conn:
        for start in range(0, rows, 10_000):
            conn.execute(insert(personal_keys), batch[start : start + 10_000])


def startups(url: str, rows: int, repeat: int) -> dict[str, Any]:
    master = MasterKeys({"k1": os.urandom(32)})
    engine = create_views_engine(url, pool_size=2)
    try:
        fill(engine, master, rows, clear=True)
        c, w = time.process_time(), time.perf_counter()
        prepare(engine, master)  # wraps every clear key
        legacy = {
            "cpu_s": round(time.process_time() - c, 3),
            "wall_s": round(time.perf_counter() - w, 3),
        }
        cpu, wall = [], []
        for _ in range(repeat):
            c, w = time.process_time(), time.perf_counter()
            prepare(engine, master)
            cpu.append(round(time.process_time() - c, 4))
            wall.append(round(time.perf_counter() - w, 4))
    finally:
        engine.dispose()
    return {"rows": rows, "first_start_legacy": legacy, "cpu_s": cpu, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=PG_ADMIN)
    args = parser.parse_args()
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = startups(f"sqlite:///{tmp}/views.db", args.rows, args.repeat)
    name = f"rk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        out["postgres"] = startups(f"{url}/{name}", args.rows, args.repeat)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
