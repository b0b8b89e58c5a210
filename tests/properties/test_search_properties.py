"""Search invariants on the embedded SQLite backend fed by the real views, for random small
catalogues and calendars:

- a geo-radius search never returns a listing farther than the radius;
- a dated search never returns a listing that the availability view says cannot take the
  requested quantity for the whole period, even when the index lags behind the bookings;
- sorting is total and stable across pages: following `next_offset` page by page yields
  exactly the one-page answer, without repeats.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from application.search_queries import ListingSearch, SearchParams
from application.search_sync import IndexSyncer
from domain.errors import DomainError
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine
from projections.availability_calendar import calendar_range
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from projections.search_availability import ViewAvailability
from projections.search_documents import ViewSearchDocuments
from tests.builders import NOW, World, make_world

CENTRE = (38.7223, -9.1393)  # Lisbon
FIRST_DAY = NOW.date() + timedelta(days=3)
DAYS = 6
TZ = "Europe/Lisbon"  # UTC+1 in June: slots start on whole UTC hours

listing_st = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["night", "day", "hour"]),
        "d_lat": st.floats(-0.5, 0.5),
        "d_lng": st.floats(-0.5, 0.5),
        "price": st.sampled_from([5_000, 7_500, 9_900]),  # ties are likely
        "quantity": st.integers(1, 3),
        "word": st.sampled_from(["loft", "court", "studio"]),
    }
)
command_st = st.tuples(
    st.sampled_from(["place", "block"]),
    st.integers(0, 7),  # listing
    st.integers(0, DAYS - 2),  # first day (or hour block's day)
    st.integers(1, 3),  # nights, or hours
    st.integers(1, 3),  # quantity
)


@dataclass
class Market:
    world: World
    runner: ProjectionRunner
    syncer: IndexSyncer
    search: ListingSearch
    listings: list[UUID]
    kinds: list[str]

    def catch_up(self, *, index: bool = True) -> None:
        self.runner.catch_up()
        if index:
            self.syncer.sync_once(NOW.date())


@contextlib.contextmanager
def market(specs: list[dict[str, Any]]) -> Iterator[Market]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            world = make_world()
            runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=50)
            runner.setup()
            index = SqliteSearchIndex(engine)
            index.ensure_settings()
            syncer = IndexSyncer(
                ViewSearchDocuments(engine, runner.tables("search_documents")), index
            )
            availability = ViewAvailability(engine, runner.tables("availability"))
            ids = [_listing(world, n, spec) for n, spec in enumerate(specs)]
            m = Market(world, runner, syncer, ListingSearch(index, availability), ids, [])
            m.kinds = [s["kind"] for s in specs]
            m.catch_up()
            yield m
        finally:
            engine.dispose()


def _listing(world: World, n: int, spec: dict[str, Any]) -> UUID:
    lat, lng = CENTRE[0] + spec["d_lat"], CENTRE[1] + spec["d_lng"]
    hourly = spec["kind"] == "hour"
    return world.active_listing(
        title=f"Listing {spec['word']} number {n}",
        category="court" if hourly else "stay" if spec["kind"] == "night" else "equipment",
        booking_unit=spec["kind"],
        location={
            "address": "1 Rua",
            "city": "Lisbon",
            "country": "PT",
            "lat": lat,
            "lng": lng,
            "timezone": TZ,
        },
        pricing={"base": {"amount": spec["price"], "currency": "EUR"}},
        quantity=spec["quantity"],
        opening_hours={d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        if hourly and n % 2
        else {},
    )


def _run(m: Market, command: tuple[str, int, int, int, int]) -> None:
    name, listing, first, length, quantity = command
    listing_id = m.listings[listing % len(m.listings)]
    if m.kinds[listing % len(m.listings)] == "hour":
        begin = datetime.combine(FIRST_DAY + timedelta(days=first), datetime.min.time(), UTC)
        begin += timedelta(hours=9 + 2 * first)
        start, end = begin.isoformat(), (begin + timedelta(hours=length)).isoformat()
    else:
        day = FIRST_DAY + timedelta(days=first)
        start, end = day.isoformat(), (day + timedelta(days=length)).isoformat()
    w = m.world
    with contextlib.suppress(DomainError):
        if name == "place":
            w.bookings.place(
                w.renter, listing_id, start=start, end=end, quantity=quantity, guests=1, at=NOW
            )
        else:
            w.listings.add_block(w.owner, listing_id, start, end, "maintenance", NOW)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lng2 - lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(listing_st, min_size=1, max_size=8),
    st.floats(-0.4, 0.4),
    st.floats(-0.4, 0.4),
    st.floats(0.5, 60),
    st.sampled_from(["relevance", "distance", "price_asc"]),
)
def test_a_radius_search_never_returns_a_listing_beyond_the_radius(
    specs: list[dict[str, Any]], d_lat: float, d_lng: float, radius: float, sort: str
) -> None:
    lat, lng = CENTRE[0] + d_lat, CENTRE[1] + d_lng
    with market(specs) as m:
        page = m.search.search(
            SearchParams(lat=lat, lng=lng, radius_km=radius, sort=sort, limit=100), at=NOW
        )
        geo = {str(i): s for i, s in zip(m.listings, specs, strict=True)}
        for hit in page.hits:
            doc = hit.document
            far = haversine_km(lat, lng, doc["_geo"]["lat"], doc["_geo"]["lng"])
            assert far <= radius + 0.001, (far, radius)
            assert hit.distance_km is not None and hit.distance_km <= radius + 0.001
        inside = {
            i
            for i, s in geo.items()
            if haversine_km(lat, lng, CENTRE[0] + s["d_lat"], CENTRE[1] + s["d_lng"])
            < radius - 0.01
        }
        assert inside <= {h.document["id"] for h in page.hits}  # and none is missed


def _free_for_period(m: Market, listing_id: UUID, start: Any, end: Any, hourly: bool) -> int:
    """The fewest free units over the period, per `calendar_range` (the availability view)."""
    with m.runner.engine.connect() as conn:
        tables = m.runner.tables("availability")
        if not hourly:
            rows = calendar_range(conn, tables, listing_id, start, end, at=NOW)
            return min(r["available_units"] for r in rows)
        frm: date = start.date() - timedelta(days=1)
        rows = calendar_range(conn, tables, listing_id, frm, end.date() + timedelta(days=1), at=NOW)
        inside = [
            r
            for r in rows
            if start <= datetime.fromisoformat(r["start"].replace("Z", "+00:00")) < end
        ]
        return min(r["available_units"] for r in inside)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(listing_st, min_size=1, max_size=6),
    st.lists(command_st, max_size=10),
    st.booleans(),
    st.booleans(),
    st.integers(0, DAYS - 2),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_a_dated_search_only_returns_listings_free_for_the_whole_period(
    specs: list[dict[str, Any]],
    commands: list[tuple[str, int, int, int, int]],
    index_caught_up: bool,
    hourly: bool,
    first: int,
    length: int,
    quantity: int,
) -> None:
    with market(specs) as m:
        for command in commands:
            _run(m, command)
        m.catch_up(index=index_caught_up)  # when not, the index still shows the old calendar
        if hourly:
            begin = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
            start: Any = begin + timedelta(days=first, hours=8 + 2 * first)
            end: Any = start + timedelta(hours=length)
            params = SearchParams(start=start.isoformat(), end=end.isoformat(), quantity=quantity)
        else:
            start = FIRST_DAY + timedelta(days=first)
            end = start + timedelta(days=length)
            params = SearchParams(start=start.isoformat(), end=end.isoformat(), quantity=quantity)
        page = m.search.search(params, at=NOW)
        returned = {UUID(h.document["id"]) for h in page.hits}
        for listing_id, kind in zip(m.listings, m.kinds, strict=True):
            right_kind = (kind == "hour") == hourly
            free = _free_for_period(m, listing_id, start, end, hourly) if right_kind else 0
            if listing_id in returned:
                assert right_kind and free >= quantity, (kind, free, quantity)
            elif right_kind and index_caught_up:
                assert free < quantity, (kind, free, quantity)  # and none is missed


@settings(max_examples=30, deadline=None)
@given(
    st.lists(listing_st, min_size=2, max_size=8),
    st.lists(command_st, max_size=6),
    st.sampled_from(["relevance", "price_asc", "price_desc", "rating", "newest", "distance"]),
    st.sampled_from(["", "listing", "loft"]),
    st.integers(1, 3),
    st.booleans(),
)
def test_sorting_is_total_and_stable_across_pages(
    specs: list[dict[str, Any]],
    commands: list[tuple[str, int, int, int, int]],
    sort: str,
    q: str,
    limit: int,
    dated: bool,
) -> None:
    with market(specs) as m:
        for command in commands:
            _run(m, command)
        m.catch_up()
        base: dict[str, Any] = {"q": q, "sort": sort, "lat": CENTRE[0], "lng": CENTRE[1]}
        if dated:
            base.update(
                start=FIRST_DAY.isoformat(), end=(FIRST_DAY + timedelta(days=2)).isoformat()
            )
        whole = [
            h.document["id"] for h in m.search.search(SearchParams(**base, limit=100), at=NOW).hits
        ]
        assert len(set(whole)) == len(whole)
        paged: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = m.search.search(SearchParams(**base, limit=limit, offset=offset), at=NOW)
            assert len(page.hits) <= limit
            paged += [h.document["id"] for h in page.hits]
            assert offset < (page.next_offset or math.inf)
            offset = page.next_offset
        assert paged == whole
        again = [
            h.document["id"] for h in m.search.search(SearchParams(**base, limit=100), at=NOW).hits
        ]
        assert again == whole
