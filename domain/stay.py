"""Check-in and check-out: the rules of who may do it, when, how often, and what a condition
report holds. Pure functions the Booking aggregate and the dispute use cases call.

- Each side (renter, owner) checks in at most once and checks out at most once.
- Check-in is open from the booking's start minus the listing's check-in grace hours until
  its end; check-out from its start until its end plus its check-out grace hours (half-open,
  like every period).
- A condition report is a list of items `{name, status: ok|damaged|missing, note, photo_ids}`
  with unique names, so a damage claim can cite an item by its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)

SIDES = ("renter", "owner")
ITEM_STATUSES = ("ok", "damaged", "missing")
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 7 * 24
MAX_ITEMS = 100
MAX_NAME = 120
MAX_NOTE = 2000
MAX_PHOTOS_PER_ITEM = 20
MAX_CITED = MAX_ITEMS


def side_of(user_id: UUID, role: str, *, renter_id: UUID, owner_id: UUID, booking_id: UUID) -> str:
    """The side the caller checks in or out for; admins see bookings but are no party (403),
    anyone else does not see it at all (404)."""
    if user_id == renter_id:
        return "renter"
    if user_id == owner_id:
        return "owner"
    if role == "admin":
        raise PermissionDenied("not_party", "only the booking's renter or owner checks in or out")
    raise NotFoundError("booking_not_found", f"booking {booking_id} not found")


def check_in_window(
    start_at: datetime, end_at: datetime, grace_hours: int
) -> tuple[datetime, datetime]:
    return start_at - timedelta(hours=grace_hours), end_at


def check_out_window(
    start_at: datetime, end_at: datetime, grace_hours: int
) -> tuple[datetime, datetime]:
    return start_at, end_at + timedelta(hours=grace_hours)


def check_may(
    action: str,
    status: str,
    allowed: frozenset[str],
    done: dict[str, Any],
    side: str,
    window: tuple[datetime, datetime],
    at: datetime,
) -> None:
    """Refuses a check-in/out the booking's status does not allow (409), a side's second one
    (409), or one outside its time window (422)."""
    verb = action.replace("-", " ")
    if status not in allowed:
        raise InvalidTransition(
            "invalid_booking_transition", f"cannot {verb} a booking that is {status}"
        )
    if side in done:
        raise ConflictError(
            f"already_{action.replace('-', '_')}", f"the {side} already did {action}"
        )
    check_within(action, window, at)


def check_within(action: str, window: tuple[datetime, datetime], at: datetime) -> None:
    opens, closes = window
    if at < opens:
        raise RuleViolation(
            f"{action.replace('-', '_')}_not_open",
            f"{action} opens at {opens.isoformat()}",
        )
    if at >= closes:
        raise RuleViolation(
            f"{action.replace('-', '_')}_closed",
            f"{action} closed at {closes.isoformat()}",
        )


def _text(value: Any, what: str, limit: int, *, required: bool) -> str:
    if not isinstance(value, str):
        raise RuleViolation("bad_report", f"an item's {what} is text")
    if required and not value.strip():
        raise RuleViolation("bad_report", f"an item's {what} is required")
    if len(value) > limit or any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise RuleViolation(
            "bad_report", f"an item's {what} is at most {limit} characters, no control characters"
        )
    return value


def _photo_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_PHOTOS_PER_ITEM:
        raise RuleViolation("bad_report", f"an item has at most {MAX_PHOTOS_PER_ITEM} photo ids")
    try:
        return [str(UUID(str(v))) for v in value]
    except ValueError:
        raise RuleViolation("bad_report", "photo ids are UUIDs") from None


def validate_report(items: Any) -> dict[str, Any] | None:
    """The report's JSON form ({"items": [...]}), None when there is none; RuleViolation
    (`bad_report`) names the first problem."""
    if items is None:
        return None
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise RuleViolation("bad_report", f"a report lists at most {MAX_ITEMS} items")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not set(item) <= {"name", "status", "note", "photo_ids"}:
            raise RuleViolation("bad_report", "an item is {name, status, note, photo_ids}")
        name = _text(item.get("name"), "name", MAX_NAME, required=True).strip()
        if name.casefold() in seen:
            raise RuleViolation("duplicate_report_item", f"the report names {name!r} twice")
        seen.add(name.casefold())
        status = item.get("status")
        if status not in ITEM_STATUSES:
            raise RuleViolation(
                "bad_report", f"an item's status is one of {', '.join(ITEM_STATUSES)}"
            )
        out.append(
            {
                "name": name,
                "status": status,
                "note": _text(item.get("note", ""), "note", MAX_NOTE, required=False),
                "photo_ids": _photo_ids(item.get("photo_ids", [])),
            }
        )
    return {"items": out}


def report_photo_ids(report: dict[str, Any] | None) -> list[UUID]:
    if report is None:
        return []
    return sorted({UUID(p) for item in report["items"] for p in item["photo_ids"]}, key=str)


def report_item_names(reports: Iterable[dict[str, Any] | None]) -> set[str]:
    """Every item name (case-folded) in these reports."""
    return {item["name"].casefold() for r in reports if r for item in r["items"]}


def validate_cited_items(cited: list[str], known: set[str]) -> list[str]:
    """Names a claim cites, each one an item of the booking's condition reports."""
    if len(cited) > MAX_CITED:
        raise RuleViolation("too_many_cited_items", f"cite at most {MAX_CITED} items")
    out: list[str] = []
    for name in cited:
        clean = name.strip() if isinstance(name, str) else ""
        if not clean or clean.casefold() not in known:
            raise RuleViolation(
                "unknown_report_item",
                f"{str(name)[:80]!r} is not an item of this booking's condition reports",
            )
        if clean.casefold() not in {o.casefold() for o in out}:
            out.append(clean)
    return out
