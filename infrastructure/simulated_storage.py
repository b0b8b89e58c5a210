"""The simulated processor's storage: Stripe-shaped objects, stored answers to idempotency
keys, and the outbox of webhook events, in its own tables.

Ids are derived from the fault seed and the idempotency key, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from application.payment_gateway import GatewayRejected
from infrastructure.simulated_faults import Faults
from projections.base import write_transaction

metadata = sa.MetaData()
objects = sa.Table(
    "simulated_objects",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payment_id", sa.String(36), index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)
idempotency = sa.Table(
    "simulated_idempotency",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
)
outbox = sa.Table(
    "simulated_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),  # pending|claimed|delivered
)


class SimulatedStorage:
    def __init__(self, engine: Engine, faults: Faults, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.faults = faults
        self.now = now
        self._lock = threading.RLock()
        with write_transaction(engine) as conn:  # BEGIN IMMEDIATE: SQLite waits for writers
            metadata.create_all(conn)

    def _new_id(self, prefix: str, basis: str) -> str:
        digest = hashlib.sha256(f"{self.faults.seed}:{prefix}:{basis}".encode()).hexdigest()
        return f"{prefix}_sim{digest[:21]}"

    def _get(self, conn: Connection, object_id: str, kind: str) -> dict[str, Any]:
        row = conn.execute(
            sa.select(objects.c.data).where(objects.c.id == object_id, objects.c.kind == kind)
        ).first()
        if row is None:
            raise GatewayRejected("resource_missing", f"no such {kind}: {object_id}")
        data: dict[str, Any] = json.loads(row.data)
        return data

    def _put(
        self,
        conn: Connection,
        obj: dict[str, Any],
        event_type: str | None = None,
        *,
        expand_charge: dict[str, Any] | None = None,
    ) -> None:
        """Stores the object and, for `event_type`, queues a webhook with its snapshot."""
        data = json.dumps(obj)
        seq = conn.execute(sa.select(sa.func.count()).select_from(objects)).scalar_one()
        exists = conn.execute(sa.select(objects.c.id).where(objects.c.id == obj["id"])).first()
        if exists:
            conn.execute(objects.update().where(objects.c.id == obj["id"]).values(data=data))
        else:
            conn.execute(
                objects.insert().values(
                    id=obj["id"],
                    kind=obj["object"],
                    payment_id=(obj.get("metadata") or {}).get("payment_id"),
                    seq=seq,
                    data=data,
                )
            )
        if event_type is None:
            return
        snapshot = json.loads(data)
        if expand_charge is not None:  # as if expanded: the fee travels with the event
            snapshot["latest_charge"] = expand_charge
        count = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        event_id = self._new_id("evt", f"{obj['id']}:{event_type}:{count}")
        event = {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(self.now().timestamp()),
            "data": {"object": snapshot},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }
        conn.execute(
            outbox.insert().values(id=event_id, payload=json.dumps(event), state="pending")
        )


def balance_transaction(source: str, amount: int, fee: int, currency: str) -> dict[str, Any]:
    digest = hashlib.sha256(source.encode()).hexdigest()[:21]
    return {
        "id": f"txn_sim{digest}",
        "object": "balance_transaction",
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": currency,
    }
