"""How stored Listing events and snapshots of older class versions read today.

Stored events never change: the library calls these on read, version by version, before it
builds the event (or the snapshot's aggregate). Each takes the stored state and edits it in
place into the next version's shape. See README "How to change an event".

v1 → v2: one `check_in_grace_hours` governed both ends of a stay; v2 splits it into
`check_in_grace_hours` and `check_out_grace_hours`. A v1 listing keeps the window it had:
both take the old value (the default when the spec predates the field).
"""

from __future__ import annotations

from typing import Any

from domain.stay import DEFAULT_GRACE_HOURS


def split_grace_hours(spec: dict[str, Any]) -> None:
    """A v1 spec (whole or partial) into v2: check-out gets check-in's grace hours."""
    spec.setdefault("check_in_grace_hours", DEFAULT_GRACE_HOURS)
    spec.setdefault("check_out_grace_hours", spec["check_in_grace_hours"])


def created_v1_v2(state: dict[str, Any]) -> None:
    """Listing.Created: its spec is whole."""
    state["spec"] = dict(state["spec"])
    split_grace_hours(state["spec"])


def updated_v1_v2(state: dict[str, Any]) -> None:
    """Listing.Updated: `changes` holds only what changed; a v1 grace change moved both."""
    changes = state["changes"]
    if "check_in_grace_hours" in changes and "check_out_grace_hours" not in changes:
        state["changes"] = {**changes, "check_out_grace_hours": changes["check_in_grace_hours"]}


def listing_v1_v2(state: dict[str, Any]) -> None:
    """A Listing snapshot's state (the aggregate's attributes)."""
    state["spec"] = dict(state["spec"])
    split_grace_hours(state["spec"])
