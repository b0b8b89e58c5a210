"""Reading external iCal feeds: the fetcher port (HTTP with conditional GET, timeouts and a
size limit live in its adapter) and the parser, which expands recurring events (RRULE,
RDATE, EXDATE, moved instances) inside the import window.

Anything the parser cannot read makes the whole feed an error: a half-read feed must never
remove the blocks of the events it failed to read.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.calendar_sync import Occurrence, Window

MAX_OCCURRENCES = 5000  # a feed expanding to more is refused, not half-applied


class FeedError(Exception):
    """The feed could not be fetched or read; the message is shown to the owner."""


@dataclass(frozen=True)
class FetchResult:
    body: bytes | None  # None: not modified since the validators sent
    etag: str | None
    last_modified: str | None


class FeedFetcher(ABC):
    @abstractmethod
    def fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> FetchResult:
        """GETs the feed, conditionally when validators are given; raises FeedError."""


def parse_feed(body: bytes, window: Window, tz: str) -> list[Occurrence]:
    """The events of a feed that touch `window` (dates in zone `tz`, which also gives
    floating times their zone), recurring ones expanded; transparent (free) and cancelled
    events are skipped."""
    import icalendar  # here, not at import: only the feed importer parses (~3 MB of modules)
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(body)
    except Exception as e:  # icalendar raises ValueError and friends on broken input
        raise FeedError(f"not an iCalendar feed: {e}"[:300]) from None
    if calendar.name != "VCALENDAR":
        raise FeedError("not an iCalendar feed: no VCALENDAR")
    _distinguish_repeated_uids(calendar)
    zone = ZoneInfo(tz)
    lo, hi = window.first_day - timedelta(days=1), window.last_day + timedelta(days=1)
    try:
        components = recurring_ical_events.of(calendar).between(lo, hi)
        found: dict[str, Occurrence] = {}
        for component in components:
            occurrence = _occurrence(component, zone)
            if occurrence is not None:
                found[occurrence.key] = occurrence
            if len(found) > MAX_OCCURRENCES:
                raise FeedError(f"the feed has more than {MAX_OCCURRENCES} events in the window")
    except FeedError:
        raise
    except Exception as e:
        raise FeedError(f"unreadable event in the feed: {e}"[:300]) from None
    return [found[k] for k in sorted(found)]


def _distinguish_repeated_uids(calendar: Any) -> None:
    """Some exporters give several separate events one UID; the expansion would keep only
    one of them (a UID names one event and its moved instances), silently dropping busy
    periods. Such repeats (not moved instances: no RECURRENCE-ID) get `#n` appended, in
    the order of the feed, so each stays an event of its own."""
    import icalendar

    seen: dict[str, int] = {}
    for component in calendar.walk("VEVENT"):
        if "RECURRENCE-ID" in component or "UID" not in component:
            continue
        uid = str(component["UID"])
        count = seen.get(uid, 0)
        seen[uid] = count + 1
        if count:
            component["UID"] = icalendar.vText(f"{uid}#{count}")


def _occurrence(component: Any, zone: ZoneInfo) -> Occurrence | None:
    if component.name != "VEVENT":
        return None
    if str(component.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    start = _moment(component.decoded("DTSTART"), zone)
    if "DTEND" in component:
        end = _moment(component.decoded("DTEND"), zone)
    elif "DURATION" in component:
        end = start + component.decoded("DURATION")
    else:  # RFC 5545: a date lasts one day, a date-time is an instant
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    summary = str(component.get("SUMMARY", "")).strip()[:200]
    uid = str(component.get("UID", "")).strip()
    if not uid:  # not valid, but common enough: identify it by what it says
        uid = hashlib.sha256(f"{summary}|{start.isoformat()}".encode()).hexdigest()[:32]
    return Occurrence(f"{uid}|{start.isoformat()}", uid, summary, start, end)


def _moment(value: Any, zone: ZoneInfo) -> date | datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return value
    raise FeedError(f"a date or date-time was expected, not {value!r}"[:200])
