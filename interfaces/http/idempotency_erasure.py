"""An erasure's reach into stored `Idempotency-Key` answers.

A stored answer is a plaintext copy of a response, kept 24 h outside the key ring: an
owner's approval holds the renter's booking message, a registration the new user's email.
Once a user is erased, every stored answer that names them (their id is in every answer
that shows their data) is replaced by a 410 problem, and so is an answer stored later by a
request that was in flight meanwhile. The row stays, so a retry with the key still replays
instead of running the command again.
"""

from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import Engine, select, text, update

from interfaces.http.idempotency import (
    DONE,
    ERASED_BODY,
    ERASED_HEADERS,
    ERASED_MEANWHILE,
    ERASED_STATUS,
    IN_FLIGHT,
    keys,
)
from projections.base import write_transaction


def forget_answers_about(engine: Engine, subject: UUID) -> int:
    """Replaces the stored answers whose bytes name `subject`; how many it replaced."""
    with write_transaction(engine) as conn:
        names = (
            "position(:needle in body) > 0"  # bytea
            if conn.dialect.name == "postgresql"
            else "instr(body, :needle) > 0"  # a BLOB: bytewise
        )
        statement = (
            update(keys)
            .where(keys.c.state == DONE, text(names).bindparams(needle=str(subject).encode()))
            .values(status=ERASED_STATUS, headers=ERASED_HEADERS, body=ERASED_BODY)
        )
        replaced = int(conn.execute(statement).rowcount)
        # Requests in flight store their answer later: each checks it against these ids.
        in_flight = conn.execute(
            select(keys.c.scope, keys.c.key, keys.c.status, keys.c.headers).where(
                keys.c.state == IN_FLIGHT
            )
        ).all()
        for row in in_flight:
            subjects = json.loads(row.headers) if row.status == ERASED_MEANWHILE else []
            conn.execute(
                update(keys)
                .where(keys.c.scope == row.scope, keys.c.key == row.key, keys.c.state == IN_FLIGHT)
                .values(status=ERASED_MEANWHILE, headers=json.dumps([*subjects, str(subject)]))
            )
        return replaced
