"""Per-subject AES-GCM data keys in a `personal_keys` table next to the views.

The table is mutable on purpose (the application role may update it): destroying a key
overwrites it with NULL and keeps the row as a tombstone, so nothing is ever sealed for an
erased subject again. Keys are cached in memory for a short while; a process that reads a
`User.Erased` event, or destroys a key itself, drops its copy at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from application.personal_keys import KeyRing
from domain.personal_data import PERSONAL_EVENTS
from infrastructure.aead_nonces import NONCES
from projections.base import create_tables, write_transaction
from projections.folding import chunks
from projections.registry import all_projections

NONCE = 12  # bytes: `aead_nonces.NONCES` makes them
CACHE_SECONDS = 30.0
LOOKUP_SUBJECT = "email-lookup"  # the row holding the email index's HMAC secret

metadata = MetaData()
personal_keys = Table(
    "personal_keys",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("key", LargeBinary, nullable=True),  # NULL: destroyed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)


class SqlKeyRing(KeyRing):
    def __init__(self, engine: Engine, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._engine = engine
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[bytes | None, float]] = {}
        # Each cached key's cipher object: making one costs ~5 µs, an encryption ~1.
        self._aeads: dict[str, tuple[bytes, AESGCM]] = {}
        self._lock = threading.Lock()
        self._keyless: dict[str, tuple[None, float]] = {}  # subjects without a key, for a while
        self._tombstones: set[str] = set()  # destroyed keys never come back: cache forever
        with write_transaction(engine) as conn:
            create_tables(conn, metadata)

    def seal(self, subject: UUID, aad: bytes, plaintext: bytes) -> bytes | None:
        name = str(subject)
        key = self._key(name, create=True)
        if key is None:
            return None
        nonce = NONCES.next()
        return nonce + self._aead(name, key).encrypt(nonce, plaintext, aad)

    def open(self, subject: UUID, aad: bytes, ciphertext: bytes) -> bytes | None:
        name = str(subject)
        key = self._key(name, create=False)
        if key is None:
            return None
        return self._aead(name, key).decrypt(ciphertext[:NONCE], ciphertext[NONCE:], aad)

    def _aead(self, name: str, key: bytes) -> AESGCM:
        cached = self._aeads.get(name)
        if cached is None or cached[0] != key:
            cached = self._aeads[name] = (key, AESGCM(key))
        return cached[1]

    def is_destroyed(self, subject: UUID) -> bool:
        name, now = str(subject), time.monotonic()
        with self._lock:
            if name in self._tombstones:
                return True
            cached = self._cache.get(name) or self._keyless.get(name)
            if cached is not None and cached[1] > now:
                return False
        key = self._key(name, create=False)
        with self._lock:
            if key is None and name not in self._tombstones:  # no key yet: ask again later
                self._keyless[name] = (None, now + self._ttl)
            return name in self._tombstones

    def destroy(self, subject: UUID) -> bool:
        name = str(subject)
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            destroyed = conn.execute(
                update(personal_keys)
                .where(personal_keys.c.subject == name, personal_keys.c.key.is_not(None))
                .values(key=None, destroyed_at=now)
            ).rowcount
            if not destroyed and not self._row_exists(conn, name):
                conn.execute(  # a tombstone, so no key is ever made for this subject
                    personal_keys.insert().values(
                        subject=name, key=None, created_at=now, destroyed_at=now
                    )
                )
        with self._lock:
            self._cache.pop(name, None)
            self._aeads.pop(name, None)
            self._tombstones.add(name)
        return bool(destroyed)

    def forget(self, subject: UUID) -> None:
        with self._lock:
            self._cache.pop(str(subject), None)
            self._aeads.pop(str(subject), None)

    def preload(self, subjects: Iterable[UUID]) -> None:
        """One query for every subject of a page not cached yet (a rebuild reads thousands
        of renters; one query each was a tenth of its time)."""
        now = time.monotonic()
        with self._lock:
            wanted = {
                name
                for name in map(str, subjects)
                if name not in self._tombstones
                and not _fresh(self._cache.get(name), now)
                and not _fresh(self._keyless.get(name), now)
            }
        found: dict[str, bytes | None] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(wanted), 1000):
                query = select(personal_keys.c.subject, personal_keys.c.key)
                for row in conn.execute(query.where(personal_keys.c.subject.in_(chunk))):
                    found[row.subject] = row.key
        with self._lock:
            for name in wanted:
                if name not in found:
                    self._keyless[name] = (None, now + self._ttl)
                elif (key := found[name]) is None:
                    self._tombstones.add(name)
                else:
                    self._cache[name] = (key, now + self._ttl)

    def lookup_secret(self) -> bytes:
        key = self._key(LOOKUP_SUBJECT, create=True)
        assert key is not None  # never destroyed
        return key

    def _key(self, subject: str, *, create: bool) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            if subject in self._tombstones:
                return None
            cached = self._cache.get(subject)
            if cached is not None and cached[1] > now:
                return cached[0]
        key, exists = self._load(subject)
        if key is None and not exists and create:
            key = self._create(subject)
        with self._lock:
            if exists and key is None:
                self._tombstones.add(subject)
                self._aeads.pop(subject, None)
            elif key is not None:
                self._cache[subject] = (key, now + self._ttl)
        return key

    def _load(self, subject: str) -> tuple[bytes | None, bool]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(personal_keys.c.key).where(personal_keys.c.subject == subject)
            ).first()
        return (None, False) if row is None else (row.key, True)

    def _create(self, subject: str) -> bytes | None:
        key = AESGCM.generate_key(bit_length=256)
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    personal_keys.insert().values(
                        subject=subject, key=key, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:  # another writer made it first: use theirs
            return self._load(subject)[0]
        return key

    @staticmethod
    def _row_exists(conn: Connection, subject: str) -> bool:
        query = select(personal_keys.c.subject).where(personal_keys.c.subject == subject)
        return conn.execute(query).first() is not None


def _fresh(cached: tuple[bytes | None, float] | None, now: float) -> bool:
    return cached is not None and cached[1] > now


def personal_views() -> list[str]:
    """The views fed by events with personal fields: an erasure rebuilds them so they
    read those fields again, now as erased. (The audit view follows every event but keeps
    only their metadata.)"""
    topics = set(PERSONAL_EVENTS)
    return [p.name for p in all_projections() if topics & set(p.topics)]
