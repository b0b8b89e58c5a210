"""A dispute's timeline for the people who may read it: the claim, the other party's
responses, the admin's information requests and their answers, the resolution or the
withdrawal — read from the dispute's own events, which carry each step's time (the
aggregate's state keeps no time for a request, nor which response answered one)."""

from __future__ import annotations

from typing import Any

from application.store import EventStore
from domain.dispute import Dispute

ANSWERED = "answered the information request"


def _step(name: str, event: Any) -> dict[str, Any] | None:
    step: dict[str, Any] = {"at": event.at, "role": getattr(event, "role", "admin")}
    if name == "Opened":
        return step | {
            "kind": "claim",
            "text": event.description,
            "evidence": list(event.evidence),
            "claimed_amount": event.claimed_amount,
            "photo_ids": list(getattr(event, "photo_ids", None) or []),
            "cited_items": list(getattr(event, "cited_items", None) or []),
        }
    if name == "Responded":
        kind = "answer" if event.reason == ANSWERED else "response"
        return step | {"kind": kind, "text": event.message, "evidence": list(event.evidence)}
    if name == "InformationRequested":
        return step | {
            "kind": "information_request",
            "to": event.to,
            "text": event.question,
            "due_at": event.due_at,
        }
    if name == "Resolved":
        return step | {
            "kind": "resolution",
            "outcome": event.outcome,
            "text": event.note,
            "refund_to_renter": event.refund_to_renter,
            "deposit_to_owner": event.deposit_to_owner,
        }
    if name == "Withdrawn":
        return step | {"kind": "withdrawal", "text": event.reason}
    return None  # an assignment is the admins' bookkeeping, not a step


def dispute_timeline(store: EventStore, dispute: Dispute) -> list[dict[str, Any]]:
    """The steps of `dispute` (already read through `Disputes.get`, which checks who may see
    it) in the order they happened, up to the version loaded."""
    steps = []
    for event in store.events.get(dispute.id, lte=dispute.version):
        step = _step(type(event).__name__, event)
        if step is not None:
            steps.append(step)
    return steps
