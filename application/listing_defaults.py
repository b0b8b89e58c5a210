"""Defaults filled into a new listing before its spec is validated."""

from __future__ import annotations

import math
from typing import Any

from application.places import Places


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and -bound <= value <= bound else None


def with_default_timezone(data: dict[str, Any], places: Places) -> dict[str, Any]:
    """`data` with `location.timezone` taken from `location.lat`/`lng` when it is absent or
    null. Anything else (a given zone, bad coordinates, a point at sea) comes back unchanged
    for the spec's validation to judge. `data` itself is never modified."""
    location = data.get("location")
    if not isinstance(location, dict) or location.get("timezone") is not None:
        return data
    lat, lng = _coordinate(location.get("lat"), 90), _coordinate(location.get("lng"), 180)
    if lat is None or lng is None:
        return data
    zone = places.timezone_at(lat, lng)
    if zone is None:
        return data
    return {**data, "location": {**location, "timezone": zone}}
