"""`Idempotency-Key` on POST: a pure ASGI middleware, so every router gets it for free.

The first request with a key *claims* it by inserting a row (unique on scope + key) in the
view database before the app runs, so of N concurrent requests exactly one executes, in any
number of processes. When it finishes, its status, headers and body bytes are stored; a
later request with the same key and the same body gets them back byte for byte (plus
`Idempotent-Replayed: true`), a different body gets 422, and one arriving while the first
still runs gets 409. Scope is the user of the session (else a hash of the token, else
"anonymous"). Responses >= 500, 401 and 429 are not kept (the client may simply retry), and
neither is login (its body holds a bearer token, which is never stored at rest). Keys live
24 h; older rows are purged lazily. A claim left by a crashed process expires after 5 min.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.bootstrap import Container
from interfaces.http.deps import credentials
from interfaces.http.problems import MEDIA_TYPE, problem_body
from projections.base import create_tables, write_transaction

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TTL = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)
PURGE_EVERY_SECONDS = 600.0
NOT_STORED_PATHS = frozenset({"/api/v1/auth/login"})
_NOT_STORED_STATUSES = frozenset({401, 429})
_DROPPED_HEADERS = frozenset({b"date", b"server", b"x-request-id", b"set-cookie"})
IN_FLIGHT, DONE = "in_flight", "done"
# An erased user's stored answer: see idempotency_erasure. An in-flight row an erasure passed
# has status ERASED_MEANWHILE and, in `headers`, the erased ids its answer must not name.
ERASED_STATUS, ERASED_MEANWHILE = 410, -1
ERASED_BODY = problem_body(
    ERASED_STATUS,
    "idempotent_answer_erased",
    "this request was processed; its stored answer held personal data since erased",
)
ERASED_HEADERS = json.dumps([["content-type", MEDIA_TYPE]])

metadata = MetaData()
keys = Table(
    "http_idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", Integer),
    Column("headers", Text),
    Column("body", LargeBinary),
)


def create_table(engine: Engine) -> None:
    with write_transaction(engine) as conn:  # BEGIN IMMEDIATE: SQLite waits for writers
        create_tables(conn, metadata)


@dataclass(frozen=True)
class Stored:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Claim:
    CLAIMED, REPLAY, MISMATCH, IN_FLIGHT = "claimed", "replay", "mismatch", "in_flight"


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_purge = 0.0

    def claim(
        self, scope: str, key: str, fingerprint: str, now: datetime
    ) -> tuple[str, Stored | None]:
        self._purge_now_and_then(now)
        row = {"scope": scope, "key": key, "fingerprint": fingerprint}
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(insert(keys).values(**row, state=IN_FLIGHT, created_at=now))
            return Claim.CLAIMED, None
        except IntegrityError:
            pass
        try:
            with write_transaction(self.engine) as conn:
                found = conn.execute(
                    select(keys).where(keys.c.scope == scope, keys.c.key == key)
                ).first()
                if found is None:  # purged since our insert failed
                    conn.execute(insert(keys).values(**row, state=IN_FLIGHT, created_at=now))
                    return Claim.CLAIMED, None
                created = _aware(found.created_at)
                abandoned = found.state == IN_FLIGHT and created < now - STALE_CLAIM
                if created < now - TTL or abandoned:  # take it over, unless a racer did
                    taken = conn.execute(
                        update(keys)
                        .where(
                            keys.c.scope == scope,
                            keys.c.key == key,
                            keys.c.created_at == found.created_at,
                        )
                        .values(
                            fingerprint=fingerprint,
                            state=IN_FLIGHT,
                            created_at=now,
                            status=None,
                            headers=None,
                            body=None,
                        )
                    )
                    return (Claim.CLAIMED if taken.rowcount == 1 else Claim.IN_FLIGHT), None
        except IntegrityError:
            return Claim.IN_FLIGHT, None
        if found.fingerprint != fingerprint:
            return Claim.MISMATCH, None
        if found.state == IN_FLIGHT:
            return Claim.IN_FLIGHT, None
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(found.headers)]
        return Claim.REPLAY, Stored(found.status, headers, bytes(found.body))

    def complete(self, scope: str, key: str, stored: Stored) -> None:
        headers = json.dumps(
            [[k.decode("latin-1"), v.decode("latin-1")] for k, v in stored.headers]
        )
        this = (keys.c.scope == scope, keys.c.key == key)
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(keys)
                .where(*this, keys.c.status.is_(None))
                .values(state=DONE, status=stored.status, headers=headers, body=stored.body)
            )
            if done.rowcount:
                return
            # An erasure passed while this request ran: its answer may name whom it erased.
            row = conn.execute(select(keys.c.status, keys.c.headers).where(*this)).first()
            if row is None or row.status != ERASED_MEANWHILE:
                return  # purged or taken over meanwhile, as before
            if any(subject.encode() in stored.body for subject in json.loads(row.headers)):
                status, headers, body = ERASED_STATUS, ERASED_HEADERS, ERASED_BODY
            else:
                status, body = stored.status, stored.body
            conn.execute(
                update(keys)
                .where(*this)
                .values(state=DONE, status=status, headers=headers, body=body)
            )

    def release(self, scope: str, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(keys).where(
                    keys.c.scope == scope, keys.c.key == key, keys.c.state == IN_FLIGHT
                )
            )

    def _purge_now_and_then(self, now: datetime) -> None:
        if time.monotonic() - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = time.monotonic()
        with write_transaction(self.engine) as conn:
            conn.execute(delete(keys).where(keys.c.created_at < now - TTL))


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)  # SQLite drops tz


def fingerprint_of(method: str, path: str, query: str, body: bytes) -> str:
    try:  # the same JSON document, however it is spaced, is the same request
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except Exception:
        canonical = body
    digest = hashlib.sha256(f"{method} {path}?{query}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def scope_of(request: Request, container: Container) -> str:
    found = credentials(request)
    if found is None:
        return "anonymous"
    token = found[0]
    session = container.sessions.get(token, container.clock.now())
    if session is not None:
        return f"user:{session.user_id}"
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:40]


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER.encode())  # no Request per POST: most carry no key
        if key is None or scope["path"] in NOT_STORED_PATHS:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _problem(
                scope, receive, send, 422, "invalid_idempotency_key",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            )  # fmt: skip
            return
        body = await _read_body(receive)
        container: Container = scope["app"].state.container
        store = _store_of(scope["app"].state, container)
        owner = await run_in_threadpool(scope_of, Request(scope), container)
        fingerprint = fingerprint_of(
            "POST", scope["path"], scope.get("query_string", b"").decode("latin-1"), body
        )
        outcome, stored = await run_in_threadpool(
            store.claim, owner, key, fingerprint, container.clock.now()
        )
        if outcome == Claim.REPLAY and stored is not None:
            await _replay(stored, send)
        elif outcome == Claim.MISMATCH:
            await _problem(
                scope, receive, send, 422, "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )  # fmt: skip
        elif outcome == Claim.IN_FLIGHT:
            await _problem(
                scope, receive, send, 409, "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being processed",
                headers={"Retry-After": "1"},
            )  # fmt: skip
        else:
            await self._execute(scope, body, receive, send, store, owner, key)

    async def _execute(
        self,
        scope: Scope,
        body: bytes,
        receive: Receive,
        send: Send,
        store: IdempotencyStore,
        owner: str,
        key: str,
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await run_in_threadpool(store.release, owner, key)
            raise
        status = int(start["status"]) if start else 500
        if status >= 500 or status in _NOT_STORED_STATUSES or start is None:
            await run_in_threadpool(store.release, owner, key)
            return
        headers = [
            (bytes(k).lower(), bytes(v))
            for k, v in start.get("headers", [])
            if bytes(k).lower() not in _DROPPED_HEADERS
        ]
        await run_in_threadpool(
            store.complete, owner, key, Stored(status, headers, b"".join(chunks))
        )


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as Starlette's `Headers.get`."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _store_of(state: Any, container: Container) -> IdempotencyStore:
    store: IdempotencyStore | None = getattr(state, "idempotency", None)
    if store is None or store.engine is not container.views:
        create_table(container.views)
        store = IdempotencyStore(container.views)
        state.idempotency = store
    return store


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(parts)
        elif message["type"] == "http.disconnect":
            return b"".join(parts)


async def _replay(stored: Stored, send: Send) -> None:
    headers = [*stored.headers, (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


async def _problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = problem_body(status, code, detail, instance=scope["path"], request_id=request_id)
    response = Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)
    await response(scope, receive, send)
