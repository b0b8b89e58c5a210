"""An erasure's reach into stored `Idempotency-Key` answers.

A stored answer is a plaintext copy of a response, kept 24 h outside the key ring: an
owner's approval holds the renter's booking message, a registration the new user's email.
Once a user is erased, every stored answer that names them (their id is in every answer
that shows their data) is replaced by a 410 problem. The row stays, so a retry with the
key still replays instead of running the command again.
"""

from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import Engine, text, update

from interfaces.http.idempotency import DONE, keys
from interfaces.http.problems import MEDIA_TYPE, problem_body
from projections.base import write_transaction

ERASED_STATUS = 410
ERASED_BODY = problem_body(
    ERASED_STATUS,
    "idempotent_answer_erased",
    "this request was processed; its stored answer held personal data since erased",
)
ERASED_HEADERS = json.dumps([["content-type", MEDIA_TYPE]])


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
        return int(conn.execute(statement).rowcount)
