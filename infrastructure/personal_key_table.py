"""The `personal_keys` table: its data keys wrapped by a master key, its start-up checks and
its rewrapping (rotation, and the migration of rows written in the clear before wrapping).

A row's `kek` names the master key that wrapped its `key`; NULL with a key is a legacy row
holding its data key in the clear (read as such until wrapped), NULL with NULL a tombstone.
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)

from infrastructure.master_keys import MasterKeyError, MasterKeys
from projections.base import create_tables, write_transaction

log = logging.getLogger(__name__)

REWRAP_BATCH = 1000

metadata = MetaData()
personal_keys = Table(
    "personal_keys",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("key", LargeBinary, nullable=True),  # NULL: destroyed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
    Column("kek", String(32), nullable=True),  # the wrapping master key; NULL: in the clear
)
by_kek = Index("ix_personal_keys_kek", personal_keys.c.kek)


def data_key(master: MasterKeys, subject: str, key: bytes | None, kek: str | None) -> bytes | None:
    """A row's data key: unwrapped, or as it is (a legacy clear key, or a tombstone's NULL)."""
    return master.unwrap(subject, key, kek) if key is not None and kek is not None else key


def prepare(engine: Engine, master: MasterKeys) -> None:
    """Makes or upgrades the table, refuses master keys that cannot open it (at start-up,
    not at a first read), and wraps the rows still in the clear."""
    with write_transaction(engine) as conn:
        create_tables(conn, metadata)  # on PostgreSQL under its DDL lock: so is the upgrade
        if "kek" not in {c["name"] for c in inspect(conn).get_columns(personal_keys.name)}:
            conn.execute(text(f"ALTER TABLE {personal_keys.name} ADD COLUMN kek VARCHAR(32)"))
        by_kek.create(conn, checkfirst=True)
    with engine.connect() as conn:
        check(conn, master)
    wrapped = rewrap(engine, master, clear_only=True)
    if wrapped:
        log.warning("wrapped %d personal data keys kept in the clear until now", wrapped)
        forget_old_pages(engine)


def forget_old_pages(engine: Engine) -> None:
    """SQLite's write-ahead log still holds the pages as they were (clear keys): copy it
    into the file and empty it. (PostgreSQL keeps dead row versions until VACUUM: the
    README says to run VACUUM FULL personal_keys after the migration.)"""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
        if busy:  # another connection kept reading past the busy timeout
            log.warning(
                "a reader blocked the checkpoint: clear data keys may remain in %s and its"
                " write-ahead log until the next checkpoint that completes",
                engine.url.database,
            )


def check(conn: Connection, master: MasterKeys) -> None:
    """Every wrapping master key is configured, and each configured one opens a row of its."""
    rows = personal_keys.c
    unknown = conn.execute(
        select(rows.kek).where(rows.key.is_not(None), rows.kek.not_in(master.ids)).limit(1)
    ).scalar()
    if unknown is not None:
        raise MasterKeyError(
            f"personal data keys are wrapped by master key {unknown!r}, which is not configured"
            f" (have {', '.join(master.ids)}): add it to RENTBOOK_MASTER_KEYS"
        )
    for key_id in master.ids:
        sample = conn.execute(
            select(rows.subject, rows.key).where(rows.kek == key_id, rows.key.is_not(None)).limit(1)
        ).first()
        if sample is not None:
            master.unwrap(sample.subject, sample.key, key_id)  # raises when it is the wrong key


def rewrap(engine: Engine, master: MasterKeys, *, clear_only: bool = False) -> int:
    """Wraps every live key not yet under the current master key (with `clear_only`, only
    those in the clear) and says how many. Each row is replaced only if it still holds what
    was read, so a key destroyed meanwhile stays destroyed; runs alongside the live service."""
    rows = personal_keys.c
    stale = (
        rows.kek.is_(None) if clear_only else or_(rows.kek.is_(None), rows.kek != master.current)
    )
    done, after = 0, ""
    while True:
        with engine.connect() as conn:
            batch = conn.execute(
                select(rows.subject, rows.key, rows.kek)
                .where(rows.key.is_not(None), stale, rows.subject > after)
                .order_by(rows.subject)
                .limit(REWRAP_BATCH)
            ).all()
        if not batch:
            return done
        after = batch[-1].subject
        swaps = []
        for row in batch:
            clear = data_key(master, row.subject, row.key, row.kek)
            assert clear is not None
            key, kek = master.wrap(row.subject, clear)
            old = {"was_subject": row.subject, "was_key": row.key, "was_kek": row.kek or ""}
            swaps.append(old | {"new_key": key, "new_kek": kek})
        with write_transaction(engine) as conn:
            done += conn.execute(SWAP, swaps).rowcount  # one statement, executed per row


# Replaces a row's key only if it still holds what was read (an id is never "": the clear).
SWAP = (
    update(personal_keys)
    .where(
        personal_keys.c.subject == bindparam("was_subject"),
        personal_keys.c.key == bindparam("was_key"),
        func.coalesce(personal_keys.c.kek, "") == bindparam("was_kek"),
    )
    .values(key=bindparam("new_key"), kek=bindparam("new_kek"))
)


def keys_by_master_key(engine: Engine) -> dict[str, int]:
    """Live data keys per wrapping master key ("" for those in the clear)."""
    rows = personal_keys.c
    with engine.connect() as conn:
        counts = conn.execute(
            select(rows.kek, func.count()).where(rows.key.is_not(None)).group_by(rows.kek)
        ).all()
    return {kek or "": count for kek, count in counts}
