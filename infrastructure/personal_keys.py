"""Per-subject AES-GCM data keys in a `personal_keys` table next to the views.

The table is mutable on purpose (the application role may update it): destroying a key
overwrites it with NULL and keeps the row as a tombstone, so nothing is ever sealed for an
erased subject again. Keys are cached in memory for a short while; a process that reads a
`User.Erased` event, or destroys a key itself, drops its copy at once.

The table holds each key wrapped by a master key kept outside the database
(infrastructure/master_keys.py, infrastructure/personal_key_table.py): a key is unwrapped
once per load into the cache, never per seal or open.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from application.personal_keys import KeyRing
from domain.personal_data import PERSONAL_EVENTS
from infrastructure.aead_nonces import NONCES
from infrastructure.master_keys import MasterKeys
from infrastructure.personal_key_table import data_key, personal_keys, prepare
from projections.base import write_transaction
from projections.folding import chunks
from projections.registry import all_projections

NONCE = 12  # bytes: `aead_nonces.NONCES` makes them
CACHE_SECONDS = 30.0
MAX_SUBJECTS = 50_000  # cached subjects per process (~0.5 KB each)
FOREVER = float("inf")  # a tombstone's expiry
LOOKUP_SUBJECT = "email-lookup"  # the row holding the email index's HMAC secret


class _Entry:
    """A subject's cached state: a key (and its cipher object: making one costs ~5 µs, an
    encryption ~1), no key yet (`key` None, for a while) or a tombstone (`key` None, forever)."""

    __slots__ = ("aead", "key", "until")

    def __init__(self, key: bytes | None, until: float) -> None:
        self.key = key
        self.until = until
        self.aead = AESGCM(key) if key is not None else None

    @property
    def is_tombstone(self) -> bool:
        return self.until == FOREVER


class SqlKeyRing(KeyRing):
    """Keys, keyless subjects and tombstones share one LRU map of at most `max_subjects`
    entries, expired ones dropped as they reach its front: a long-running process touching
    many users stays bounded. An evicted tombstone is safe: the table's NULL key is the
    truth and the next lookup reads it again."""

    def __init__(
        self,
        engine: Engine,
        master: MasterKeys,
        *,
        cache_seconds: float = CACHE_SECONDS,
        max_subjects: int = MAX_SUBJECTS,
    ) -> None:
        self._engine = engine
        self._master = master
        self._ttl = cache_seconds
        self.max_subjects = max_subjects
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Moves on every destroy and forget: a load that raced one does not cache its key.
        self._epoch = 0
        prepare(engine, master)  # a wrong or missing master key fails here, at start-up

    def __len__(self) -> int:
        return len(self._entries)

    def seal(self, subject: UUID, aad: bytes, plaintext: bytes) -> bytes | None:
        aead = self._entry(str(subject), create=True).aead
        if aead is None:
            return None
        nonce = NONCES.next()
        return nonce + aead.encrypt(nonce, plaintext, aad)

    def open(self, subject: UUID, aad: bytes, ciphertext: bytes) -> bytes | None:
        aead = self._entry(str(subject), create=False).aead
        if aead is None:
            return None
        return aead.decrypt(ciphertext[:NONCE], ciphertext[NONCE:], aad)

    def is_destroyed(self, subject: UUID) -> bool:
        name, now = str(subject), time.monotonic()
        with self._lock:
            entry = self._entries.get(name)
            # Keyless ones count here too; not a use (no move): seal and open make those.
            if entry is not None and entry.until > now:
                return entry.until == FOREVER
        return self._entry(name, create=False).is_tombstone

    def destroy(self, subject: UUID) -> bool:
        name = str(subject)
        with write_transaction(self._engine) as conn:
            destroyed = self._destroy_row(conn, name, datetime.now(UTC))
        with self._lock:
            self._epoch += 1
            self._put(name, _Entry(None, FOREVER), time.monotonic())
        return destroyed

    @staticmethod
    def _destroy_row(conn: Connection, name: str, now: datetime) -> bool:
        """Nulls the subject's key, or leaves a tombstone where it has no row. On PostgreSQL
        (READ COMMITTED) a first seal may commit the key after the UPDATE looked: a plain
        "row exists?" check then saw that key and kept it, and a plain INSERT collided
        with it. The tombstone's INSERT waits for such a seal and skips on conflict; the
        second UPDATE, a new snapshot, then sees and nulls its committed key."""
        destroy = (
            update(personal_keys)
            .where(personal_keys.c.subject == name, personal_keys.c.key.is_not(None))
            .values(key=None, kek=None, destroyed_at=now)
        )
        if conn.execute(destroy).rowcount:
            return True
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        tombstone = insert(personal_keys).values(
            subject=name, key=None, created_at=now, destroyed_at=now
        )
        # RETURNING: psycopg's rowcount for an ON CONFLICT insert may be -1 (unknown).
        made = tombstone.on_conflict_do_nothing().returning(personal_keys.c.subject)
        if conn.execute(made).first() is not None:
            return False
        return bool(conn.execute(destroy).rowcount)

    def forget(self, subject: UUID) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.pop(str(subject), None)

    def preload(self, subjects: Iterable[UUID]) -> None:
        """One query for every subject of a page not cached yet (a rebuild reads thousands
        of renters; one query each was a tenth of its time)."""
        now = time.monotonic()
        with self._lock:
            epoch = self._epoch
            wanted = {
                name for name in map(str, subjects) if not _fresh(self._entries.get(name), now)
            }
        found: dict[str, bytes | None] = {}
        rows = personal_keys.c
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(wanted), 1000):
                query = select(rows.subject, rows.key, rows.kek).where(rows.subject.in_(chunk))
                for row in conn.execute(query):
                    found[row.subject] = data_key(self._master, row.subject, row.key, row.kek)
        fetched = [(name, self._made(found.get(name), name in found, now)) for name in wanted]
        with self._lock:
            for name, entry in fetched:
                if entry.is_tombstone or epoch == self._epoch:
                    self._put(name, entry, now)

    def lookup_secret(self) -> bytes:
        key = self._entry(LOOKUP_SUBJECT, create=True).key
        assert key is not None  # never destroyed
        return key

    def _entry(self, subject: str, *, create: bool) -> _Entry:
        """The subject's key or tombstone, cached or read (and made, with `create`); a
        keyless entry is never trusted here: another process may have made the key since."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(subject)
            if (
                entry is not None
                and entry.until > now
                and (entry.key is not None or entry.is_tombstone)
            ):
                self._entries.move_to_end(subject)
                return entry
            epoch = self._epoch
        key, exists = self._load(subject)
        if key is None and not exists and create:
            key = self._create(subject)
        entry = self._made(key, exists, now)
        with self._lock:
            # A tombstone is the table's truth; a key or its absence may be stale by now.
            if entry.is_tombstone or epoch == self._epoch:
                self._put(subject, entry, now)
        return entry

    def _made(self, key: bytes | None, exists: bool, now: float) -> _Entry:
        """The entry for what the table holds: a row without a key is a tombstone."""
        return _Entry(key, FOREVER if exists and key is None else now + self._ttl)

    def _put(self, subject: str, entry: _Entry, now: float) -> None:
        """Keeps `entry` as the most recent (under the lock), never over a tombstone, and
        drops the least recently used beyond the cap and the expired at the front."""
        entries = self._entries
        known = entries.get(subject)
        if known is not None and known.is_tombstone and not entry.is_tombstone:
            return
        entries[subject] = entry
        entries.move_to_end(subject)
        while len(entries) > self.max_subjects:
            entries.popitem(last=False)
        while entries and next(iter(entries.values())).until <= now:
            entries.popitem(last=False)

    def _load(self, subject: str) -> tuple[bytes | None, bool]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(personal_keys.c.key, personal_keys.c.kek).where(
                    personal_keys.c.subject == subject
                )
            ).first()
        if row is None:
            return None, False
        return data_key(self._master, subject, row.key, row.kek), True

    def _create(self, subject: str) -> bytes | None:
        key = AESGCM.generate_key(bit_length=256)
        wrapped, kek = self._master.wrap(subject, key)
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    personal_keys.insert().values(
                        subject=subject, key=wrapped, kek=kek, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:  # another writer made it first: use theirs
            return self._load(subject)[0]
        return key


def _fresh(entry: _Entry | None, now: float) -> bool:
    return entry is not None and entry.until > now


def personal_views() -> list[str]:
    """The views fed by events with personal fields: an erasure rebuilds them so they
    read those fields again, now as erased. (The audit view follows every event but keeps
    only their metadata.)"""
    topics = set(PERSONAL_EVENTS)
    return [p.name for p in all_projections() if topics & set(p.topics)]
