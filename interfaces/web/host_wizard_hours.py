"""The wizard's opening hours of an hourly listing: one text field per weekday holding one or
more ranges ("08:00-12:00, 14:00-22:00") and a Closed box. Parsed here into the spec's
`opening_hours`; the domain (`validate_opening_hours`) judges the ranges themselves, and its
"mon: ..." messages come back to the weekday's field."""

from __future__ import annotations

import re

from domain.periods import WEEKDAYS

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
DEFAULT_RANGES = "08:00-22:00"
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}:\d{2})\s*$")
_DAY_MESSAGE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun): (.+)$")


def field_of(day: str) -> str:
    return f"oh_{day}"


def closed_field_of(day: str) -> str:
    return f"oh_{day}_closed"


def _time(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours):02d}:{minutes}"


def hours_from_form(form: dict[str, str]) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """The weekdays' windows, and errors of fields whose text is not a list of ranges. A
    closed day is left out (the domain's meaning of a missing weekday)."""
    hours: dict[str, list[list[str]]] = {}
    errors: dict[str, str] = {}
    for day in WEEKDAYS:
        if form.get(closed_field_of(day)) == "on":
            continue
        text = form.get(field_of(day), "").strip()
        if not text:
            errors[field_of(day)] = "Enter the hours, e.g. 09:00-18:00, or tick Closed."
            continue
        windows = []
        for part in re.split(r"[,;]", text):
            found = _RANGE.match(part)
            if found is None:
                errors[field_of(day)] = f"Write each range as 09:00-18:00 ({part.strip()!r})."
                break
            windows.append([_time(found.group(1)), _time(found.group(2))])
        else:
            hours[day] = windows
    if not hours and not errors:
        errors["opening_hours"] = "Open on at least one day."
    if len(hours) == len(WEEKDAYS) and all(w == [["00:00", "24:00"]] for w in hours.values()):
        return {}, errors  # open around the clock: the spec's "no hours"
    return hours, errors


def hours_to_values(opening_hours: dict[str, list[list[str]]]) -> dict[str, str]:
    """The form's fields for a listing's opening hours (editing it)."""
    values: dict[str, str] = {}
    for day in WEEKDAYS:
        windows = opening_hours.get(day)
        if windows:
            values[field_of(day)] = ", ".join(f"{start}-{end}" for start, end in windows)
        elif opening_hours:
            values[closed_field_of(day)] = "on"
        else:  # no hours set: open all day
            values[field_of(day)] = "00:00-24:00"
    return values


def default_values() -> dict[str, str]:
    return {field_of(day): DEFAULT_RANGES for day in WEEKDAYS}


def field_of_message(message: str) -> tuple[str, str]:
    """A domain message about the opening hours ("tue: window 10:00-09:00 must start before
    it ends") as (the weekday's field, the message without the day)."""
    found = _DAY_MESSAGE.match(message)
    if found is None:
        return "opening_hours", message
    return field_of(found.group(1)), found.group(2)


def weekdays() -> list[tuple[str, str]]:
    return list(DAY_NAMES.items())
