"""Geo maths for the embedded search backends, as Meilisearch does it: geoutils' haversine,
`_geoRadius` in whole meters, distances in km on hits, and the lat/lng box that prefilters a
radius."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from application.search import SearchQuery

EARTH_RADIUS_KM = 6371.0


EARTH_RADIUS_M = 6371e3


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """geoutils' haversine, as Meilisearch's `_geoRadius` and `_geoPoint` use it; the
    PostgreSQL backend evaluates the same operations in SQL, so every backend agrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    l1, l2 = math.radians(lng1), math.radians(lng2)
    total = (1.0 - math.cos(p2 - p1)) / 2.0 + math.cos(p1) * math.cos(p2) * (
        (1.0 - math.cos(l2 - l1)) / 2.0
    )
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, total)))


def radius_meters(radius_km: float) -> int:
    """Meilisearch's radius is whole meters."""
    return math.floor(radius_km * 1000 + 0.5)


def distance_km(meters: float | None) -> float | None:
    """`_geoDistance` is whole meters; hits carry it in km."""
    return None if meters is None else round(math.floor(meters + 0.5) / 1000, 3)


def radius_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lng box holding the circle, widened by 1% so float noise never cuts a hit;
    the lng range is (-inf, inf) when the circle reaches a pole or the antimeridian."""
    reach = radius_km * 1.01 + 0.001
    d_lat = math.degrees(reach / EARTH_RADIUS_KM)
    lo_lat, hi_lat = lat - d_lat, lat + d_lat
    if lo_lat <= -90 or hi_lat >= 90:
        return lo_lat, hi_lat, -math.inf, math.inf
    d_lng = math.degrees(
        reach / (EARTH_RADIUS_KM * math.cos(math.radians(max(abs(lo_lat), abs(hi_lat)))))
    )
    if lng - d_lng < -180 or lng + d_lng > 180:
        return lo_lat, hi_lat, -math.inf, math.inf
    return lo_lat, hi_lat, lng - d_lng, lng + d_lng


def has_point(query: SearchQuery) -> bool:
    return query.lat is not None and query.lng is not None


def geo_of(document: Mapping[str, Any]) -> tuple[float | None, float | None]:
    geo = document.get("_geo") or {}
    lat, lng = geo.get("lat"), geo.get("lng")
    return (None, None) if lat is None or lng is None else (float(lat), float(lng))
