"""The command context stamped on every stored event (actor, correlation, ...).

The event store writes it (application) and the audit view reads it (projections).
"""

from __future__ import annotations

META_KEY = "_meta"


def event_meta(event: object) -> dict[str, str]:
    meta = getattr(event, META_KEY, None)
    return dict(meta) if isinstance(meta, dict) else {}
