"""Listings over HTTP: blocks, per-date prices and the calendar (nights, hourly slots with
opening hours, a DST day)."""

from __future__ import annotations

from datetime import date

from tests.builders import listing_spec
from tests.http.conftest import API, Api
from tests.http.listings_support import (
    MISSING,
    _court,
    active_listing,
    calendar,
    code,
    create,
    day,
    quote,
)

# -- blocks ----------------------------------------------------------------------------------


def test_a_block_takes_every_unit_and_removing_it_frees_them(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin, quantity=2)
    start, end = day(api, 20), day(api, 22)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": start, "end": end, "reason": "painting"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    block = r.json()
    assert block["listing_id"] == listing_id and block["reason"] == "painting"
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, day(api, 19), day(api, 23), **{"X-Rentbook-Min-Position": position}
    )
    assert [d["available_units"] for d in days] == [2, 0, 0, 2]
    assert [d["blocked"] for d in days] == [False, True, True, False]
    renter = api.new_user()
    q = quote(api, listing_id, renter, start=start, end=end)
    assert q.status_code == 422 and code(q) == "unavailable"

    r = api.client.delete(
        f"{API}/listings/{listing_id}/blocks/{block['id']}", headers=owner.headers
    )
    assert r.status_code == 204 and r.content == b""
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, day(api, 19), day(api, 23), **{"X-Rentbook-Min-Position": position}
    )
    assert [d["available_units"] for d in days] == [2, 2, 2, 2]


def test_a_block_over_a_booking_is_409(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    booked = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": day(api, 10), "end": day(api, 12)},
        headers=renter.headers,
    )
    assert booked.status_code == 201, booked.text
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": day(api, 11), "end": day(api, 14)},
        headers=owner.headers,
    )
    assert r.status_code == 409 and code(r) == "block_overlaps_bookings"


def test_removing_an_unknown_block_is_404(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.delete(f"{API}/listings/{listing_id}/blocks/{MISSING}", headers=owner.headers)
    assert r.status_code == 404 and code(r) == "block_not_found"


def test_only_the_owner_blocks_dates(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": day(api, 20), "end": day(api, 22)},
        headers=stranger.headers,
    )
    assert r.status_code == 403


def test_a_block_with_a_bad_date_is_422(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": "next monday", "end": day(api, 22)},
        headers=owner.headers,
    )
    assert r.status_code == 422 and code(r) == "bad_period"


# -- per-date prices -------------------------------------------------------------------------


def test_a_price_override_changes_quote_and_calendar_until_cleared(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    first, second = day(api, 40), day(api, 41)
    r = api.client.put(
        f"{API}/listings/{listing_id}/prices/{first}",
        json={"amount": 25_000},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["price_overrides"] == {first: 25_000}
    position = r.headers["X-Rentbook-Position"]
    days = calendar(api, listing_id, first, day(api, 42), **{"X-Rentbook-Min-Position": position})
    assert [d["price"] for d in days] == [
        {"amount": 25_000, "currency": "EUR"},
        {"amount": 10_000, "currency": "EUR"},
    ]
    q = quote(api, listing_id, renter, start=first, end=day(api, 42)).json()["quote"]
    assert q["unit_prices"] == [[first, 25_000], [second, 10_000]]
    assert q["base_total"] == 35_000

    r = api.client.delete(f"{API}/listings/{listing_id}/prices/{first}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["price_overrides"] == {}
    position = r.headers["X-Rentbook-Position"]
    days = calendar(api, listing_id, first, day(api, 42), **{"X-Rentbook-Min-Position": position})
    assert [d["price"]["amount"] for d in days] == [10_000, 10_000]
    q = quote(api, listing_id, renter, start=first, end=day(api, 42)).json()["quote"]
    assert q["base_total"] == 20_000


def test_price_overrides_are_the_owners_and_never_negative(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    url = f"{API}/listings/{listing_id}/prices/{day(api, 40)}"
    assert api.client.put(url, json={"amount": 1}, headers=stranger.headers).status_code == 403
    r = api.client.put(url, json={"amount": -1}, headers=owner.headers)
    assert r.status_code == 422 and code(r) == "validation_failed"
    r = api.client.put(
        f"{API}/listings/{listing_id}/prices/2027-02-30", json={"amount": 1}, headers=owner.headers
    )
    assert r.status_code == 422


# -- calendar --------------------------------------------------------------------------------


def test_night_calendar_lists_each_date_with_free_units_and_price(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    spec = listing_spec(quantity=3)
    spec["pricing"]["weekday_multipliers"] = {"sat": 1.5}
    r = api.client.post(f"{API}/listings", json=spec, headers=owner.headers)
    listing_id = r.json()["id"]
    api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, "2027-01-01", "2027-01-08", **{"X-Rentbook-Min-Position": position}
    )
    assert [d["date"] for d in days] == [f"2027-01-0{n}" for n in range(1, 8)]
    assert all(d["available_units"] == 3 and not d["blocked"] for d in days)
    saturday = next(d for d in days if date.fromisoformat(d["date"]).weekday() == 5)
    assert saturday["price"] == {"amount": 15_000, "currency": "EUR"}
    assert {d["price"]["amount"] for d in days if d is not saturday} == {10_000}


def test_calendar_of_a_draft_is_404_for_the_public(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar", params={"from": "2027-01-01", "to": "2027-01-03"}
    )
    assert r.status_code == 404


def test_calendar_rejects_a_backwards_range(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar",
        params={"from": "2027-01-05", "to": "2027-01-01"},
        headers={"X-Rentbook-Min-Position": "1"},
    )
    assert r.status_code == 422 and code(r) == "bad_range"


def test_hourly_calendar_shows_closed_slots_with_no_free_units(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2027-01-13", "2027-01-14", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 24
    assert slots[0]["start"] == "2027-01-13T00:00:00Z"  # Lisbon is on UTC in winter
    open_slots = [s for s in slots if s["available_units"] == 1]
    assert [s["start"][11:16] for s in open_slots] == [f"{h:02d}:00" for h in range(8, 22)]
    closed = [s for s in slots if s["available_units"] == 0]
    assert len(closed) == 10 and all(s["held"] == s["reserved"] == 0 for s in closed)
    assert all(s["price"] == {"amount": 10_000, "currency": "EUR"} for s in slots)


def test_hourly_calendar_on_the_spring_forward_day_has_23_slots(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2026-03-29", "2026-03-30", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 23
    starts = [s["start"] for s in slots]
    assert starts[:3] == ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]
    # 01:00 UTC is 02:00 WEST: local 01:00 is skipped. Open 08:00-22:00 local = 07:00-21:00 UTC.
    opened = [s["start"][11:13] for s in slots if s["available_units"] == 1]
    assert opened == [f"{h:02d}" for h in range(7, 21)]


def test_hourly_calendar_on_the_fall_back_day_has_25_slots(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2026-10-25", "2026-10-26", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 25
    assert slots[0]["start"] == "2026-10-24T23:00:00Z"
