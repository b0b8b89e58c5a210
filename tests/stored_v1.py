"""The v1 listing fixture (tests/fixtures/events/listing_v1.json): stored events and a v1
snapshot recorded by the Listing class before its v2 schema change (the grace hours split),
byte for byte as the store held them. Tests insert them into a store and read them back
through today's classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.store import EventStore

FIXTURE = Path(__file__).parent / "fixtures" / "events" / "listing_v1.json"
DATA: dict[str, Any] = json.loads(FIXTURE.read_text())
LISTING_ID = UUID(DATA["listing_id"])
OWNER_ID = UUID(DATA["owner_id"])
# What the v1 listing held: check-in grace 6 on creation, then 12 (version 2, snapshotted).
GRACE_AT_VERSION = {1: 6, 2: 12, 3: 12, 4: 12}


def _stored(rows: list[dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(r["originator_id"]),
            originator_version=r["originator_version"],
            topic=r["topic"],
            state=r["state"].encode(),
        )
        for r in rows
    ]


def insert_v1_listing(store: EventStore, *, with_snapshot: bool = True) -> int:
    """Writes the v1 stored events (and snapshot) as they are; returns the last position."""
    recordings = store.recorder.insert_events(_stored(DATA["events"]))
    if with_snapshot:
        assert store.snapshots is not None
        store.snapshots.recorder.insert_events(_stored(DATA["snapshots"]))
    return max(n or 0 for n in recordings or [0])
