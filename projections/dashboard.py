"""What an owner's dashboard reads from the other views: occupancy (availability view),
upcoming check-ins/outs and pending requests (bookings view), payouts still to come (payments
view) and ratings (reviews view)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, select

from domain import booking as b
from domain.periods import day_slot_keys, is_open
from domain.review import average
from projections.bookings import booking_public
from projections.reviews import LISTING

# Statuses whose units are (or were) the renter's: these fill a calendar.
STAYING = (b.CONFIRMED, b.IN_PROGRESS)


def occupancy(conn: Connection, tables: Any, listing_id: UUID, frm: date, to: date) -> Any:
    """Booked units x time over available units x time in the listing's local dates
    [frm, to): per night (night listings), per day (day listings) or per open hourly slot
    (hourly listings). Blocked keys are not available; turnover buffers count as booked
    because the calendar cannot sell them. None for a listing without a calendar yet."""
    cals, keys_t, meta_t = tables["calendars"], tables["keys"], tables["listings"]
    cal = conn.execute(select(cals).where(cals.c.listing_id == listing_id)).mappings().first()
    meta = conn.execute(select(meta_t).where(meta_t.c.listing_id == listing_id)).mappings().first()
    if cal is None or meta is None:
        return None
    days = [frm + timedelta(days=n) for n in range((to - frm).days)]
    if cal["unit"] == "hour":
        tz = meta["timezone"]
        wanted = [
            k for d in days for k in day_slot_keys(d, tz) if is_open(k, tz, cal["opening_hours"])
        ]
    else:
        wanted = [d.toordinal() for d in days]
    counts: dict[int, tuple[int, int]] = {}
    if wanted:
        stmt = select(keys_t.c.key, keys_t.c.reserved, keys_t.c.blocked).where(
            keys_t.c.listing_id == listing_id, keys_t.c.key.between(wanted[0], wanted[-1])
        )
        counts = {r.key: (r.reserved, r.blocked) for r in conn.execute(stmt)}
    units, booked, available = cal["units"], 0, 0
    for key in wanted:
        reserved, blocked = counts.get(key, (0, 0))
        if blocked:
            continue
        available += units
        booked += min(reserved, units)
    return {
        "per": cal["unit"],
        "units": units,
        "booked": booked,
        "available": available,
        "rate": round(booked / available, 4) if available else 0.0,
    }


def upcoming(
    conn: Connection, tables: Any, owner_id: UUID, today: date, limit: int
) -> dict[str, list[dict[str, Any]]]:
    """Confirmed bookings starting from `today` (check-ins) and staying bookings ending
    from `today` (check-outs), soonest first."""
    t = tables["bookings"]
    day = today.isoformat()  # starts/ends are ISO dates or instants: both sort as text
    ins = (
        select(t)
        .where(t.c.owner_id == owner_id, t.c.status == b.CONFIRMED, t.c.start >= day)
        .order_by(t.c.start, t.c.id)
        .limit(limit)
    )
    outs = (
        select(t)
        .where(t.c.owner_id == owner_id, t.c.status.in_(STAYING), t.c.end >= day)
        .order_by(t.c.end, t.c.id)
        .limit(limit)
    )
    return {
        "check_ins": [booking_public(r) for r in conn.execute(ins).mappings()],
        "check_outs": [booking_public(r) for r in conn.execute(outs).mappings()],
    }


def pending_requests(
    conn: Connection, tables: Any, owner_id: UUID, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """Requests waiting for the owner's answer: how many, and the first to expire."""
    t = tables["bookings"]
    where = (t.c.owner_id == owner_id, t.c.status == b.PENDING_OWNER_APPROVAL)
    count = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
    stmt = select(t).where(*where).order_by(t.c.expires_at, t.c.id).limit(limit)
    return int(count), [booking_public(r) for r in conn.execute(stmt).mappings()]


def payouts_to_come(conn: Connection, tables: Any, owner_id: UUID) -> dict[str, int]:
    """Per currency: the owner's share of paid bookings not yet paid out nor cancelled."""
    t = tables["payments"]
    stmt = (
        select(t.c.currency, func.sum(t.c.owner_payout - t.c.paid_out))
        .where(
            t.c.owner_id == owner_id,
            t.c.charge_status == "captured",
            t.c.payout_status.not_in(("sent", "reversed")),
            t.c.booking_status.not_in((b.CANCELLED, b.REFUNDED)),
        )
        .group_by(t.c.currency)
    )
    return {currency: int(total) for currency, total in conn.execute(stmt)}


def listing_ratings(
    conn: Connection, tables: Any, listing_ids: Sequence[UUID]
) -> tuple[dict[UUID, dict[str, Any]], dict[str, Any]]:
    """Each listing's published rating, and all of them together."""
    ratings = tables["ratings"]
    found: dict[UUID, dict[str, Any]] = {}
    count = total = 0
    if listing_ids:
        stmt = select(ratings).where(
            ratings.c.subject_kind == LISTING, ratings.c.subject_id.in_(list(listing_ids))
        )
        for r in conn.execute(stmt).mappings():
            found[r["subject_id"]] = {
                "count": r["count"],
                "average": average(r["total"], r["count"]),
            }
            count, total = count + r["count"], total + r["total"]
    return found, {"count": count, "average": average(total, count) if count else 0.0}
