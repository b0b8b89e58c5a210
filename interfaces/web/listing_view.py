"""What a listing's page shows, read through the same use cases and views as the API: the
listing (visibility checked by `listings.get`), its rating and published reviews, the host's
public profile, the calendar and a quote."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import DomainError, NotFoundError
from domain.media import media_url
from interfaces.web.session import Visitor
from interfaces.web.wishlists import saved_ids
from projections.availability_calendar import calendar_range
from projections.profiles import read_profile
from projections.reviews import list_reviews, listing_rating, user_review_summary

CALENDAR_DAYS = 56  # eight weeks from today, in the listing's time zone


def local_today(tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def listing_page_context(
    visitor: Visitor, listing_id: UUID, *, start: str, end: str, guests: str
) -> dict[str, Any]:
    container = visitor.container
    listing = container.listings.get(listing_id, viewer=visitor.actor)
    spec = listing.spec
    tz = spec["location"]["timezone"]
    tables = container.runner.tables
    with container.views.connect() as conn:
        rating = listing_rating(conn, tables("reviews"), listing_id)
        reviews, _ = list_reviews(conn, tables("reviews"), listing_id=listing_id, limit=10)
        host = read_profile(conn, tables("profiles"), listing.owner_id)
        host_reviews = user_review_summary(conn, tables("reviews"), listing.owner_id)
    photos = [
        {"display": media_url(pid, "display"), "thumb": media_url(pid, "thumb")}
        for pid in spec.get("photos", [])
    ]
    context: dict[str, Any] = {
        "listing": listing,
        "spec": spec,
        "tz": tz,
        "currency": spec["pricing"]["base"]["currency"],
        "photos": photos,
        "rating": rating,
        "reviews": reviews,
        "host": host,
        "host_reviews": host_reviews,
        "weeks": calendar_weeks(visitor, listing_id, spec),
        "start": start,
        "end": end,
        "guests": guests or "1",
        "date_input": "datetime-local" if spec["booking_unit"] == "hour" else "date",
        "saved": saved_ids(visitor, [listing_id]),
    }
    context.update(quote_context(visitor, listing_id, start, end, guests))
    return context


def calendar_weeks(
    visitor: Visitor, listing_id: UUID, spec: dict[str, Any], days: int = CALENDAR_DAYS
) -> list[list[dict[str, Any] | None]]:
    """Monday-first weeks of {date, free, price} (hourly listings: free slots that day)."""
    container = visitor.container
    first = local_today(spec["location"]["timezone"], visitor.now)
    span = days if spec["booking_unit"] != "hour" else 14
    try:
        with container.views.connect() as conn:
            rows = calendar_range(
                conn,
                container.runner.tables("availability"),
                listing_id,
                first,
                first + timedelta(days=span),
                at=visitor.now,
            )
    except NotFoundError:  # just published: the calendar view has not caught up yet
        return []
    per_day: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row.get("date") or _local_day(row["start"], spec["location"]["timezone"])
        entry = per_day.setdefault(key, {"date": key, "free": 0, "price": row["price"]})
        if row.get("open") is not False and not row["blocked"]:
            entry["free"] += row["available_units"]
    cells: list[dict[str, Any] | None] = [None] * first.weekday()
    cells += [per_day[k] for k in sorted(per_day)]
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def quote_context(
    visitor: Visitor, listing_id: UUID, start: str, end: str, guests: str
) -> dict[str, Any]:
    """{quote, schedule, quote_error}: the quote, or why the period cannot be booked."""
    listing = visitor.container.listings.get(listing_id, viewer=visitor.actor)
    context: dict[str, Any] = {
        "quote": None,
        "quote_error": "",
        "listing": listing,
        "tz": listing.spec["location"]["timezone"],
        "start": start,
        "end": end,
        "guests": guests,
    }
    if not start or not end:
        context["quote_error"] = "Pick your dates to see the price."
        return context
    if not guests.isdigit() or not 1 <= int(guests) <= 1000:
        context["quote_error"] = "Guests must be a whole number from 1."
        return context
    try:
        context["quote"] = visitor.container.listings.quote(
            listing_id,
            start=to_period_value(start, context["tz"]),
            end=to_period_value(end, context["tz"]),
            quantity=1,
            guests=int(guests),
            at=visitor.now,
            viewer=visitor.actor,
        )
    except DomainError as error:
        context["quote_error"] = error.detail
    return context


def to_period_value(value: str, tz: str) -> str:
    """Dates pass as they are; a `datetime-local` value ("2027-03-01T10:00", hourly
    listings) is read as wall-clock time in the listing's zone and sent as RFC 3339."""
    if "T" not in value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the use case names what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.isoformat()


def _local_day(start: Any, tz: str) -> str:
    """The local date of an hourly slot's start instant."""
    instant = datetime.fromisoformat(start) if isinstance(start, str) else start
    return instant.astimezone(ZoneInfo(tz)).date().isoformat()


def listing_title(visitor: Visitor, listing_id: UUID) -> str:
    try:
        return str(visitor.container.listings.get(listing_id, viewer=visitor.actor).spec["title"])
    except DomainError:
        return "A listing that is no longer shown"


def listing_zones(visitor: Visitor, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each booking row's listing time zone, by listing id: hourly bookings show their times
    in it (UTC for a listing no longer shown)."""
    zones: dict[str, str] = {}
    for row in rows:
        lid = str(row["listing_id"])
        if lid not in zones:
            try:
                listing = visitor.container.listings.get(UUID(lid), viewer=visitor.actor)
                zones[lid] = str(listing.spec["location"]["timezone"])
            except DomainError:
                zones[lid] = "UTC"
    return zones
