"""Who may open which stream (as for the matching GET), bad resume positions, and the
finite `live=false` replay (which a buffering test client can read whole)."""

from __future__ import annotations

from typing import Any

from httpx import Response

from interfaces.http.deps import SESSION_COOKIE
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import open_listing
from tests.http.test_live_sse import place, post


def frames(r: Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    found = []
    for block in r.text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "event" in fields:
            found.append(fields)
    return found


def replay(
    api: Api, path: str, who: Auth | None, after: int | None = 0, **headers: Any
) -> Response:
    params: dict[str, Any] = {"live": "false"}
    if after is not None:
        params["last_event_id"] = after
    auth = who.headers if who else {}
    return api.client.get(f"{API}{path}", params=params, headers=auth | headers)


def test_booking_events_are_for_its_parties_and_admins_only(api: Api) -> None:
    owner, admin, renter, stranger = api.new_user(), api.admin(), api.new_user(), api.new_user()
    listing = open_listing(api, owner, admin, booking_mode="request")
    booking = place(api, renter, listing, 30, 32)
    post(api, f"/bookings/{booking}/approve", owner)
    path = f"/bookings/{booking}/events"

    assert replay(api, path, None).status_code == 401
    assert replay(api, path, stranger).json()["code"] == "booking_not_found"
    assert replay(api, path, stranger).status_code == 404
    for who in (renter, owner, admin):
        events = frames(replay(api, path, who))
        assert [e["event"] for e in events] == ["booking", "booking", "ready"]
    ids = [int(e["id"]) for e in frames(replay(api, path, renter))]
    assert ids == sorted(ids) and ids[-1] >= ids[-2]


def test_me_stream_needs_a_session_and_takes_the_cookie_too(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin, booking_mode="request")
    booking = place(api, renter, listing, 30, 32)

    assert replay(api, "/me/stream", None).status_code == 401
    api.client.cookies.set(SESSION_COOKIE, owner.token)
    try:
        events = frames(replay(api, "/me/stream", None))
    finally:
        api.client.cookies.clear()
    placed = [e for e in events if e["event"] == "booking"]
    assert (
        len(placed) == 1 and booking in placed[0]["data"] and '"role":"owner"' in placed[0]["data"]
    )
    mine = frames(replay(api, "/me/stream", renter))
    assert '"role":"renter"' in next(e for e in mine if e["event"] == "booking")["data"]


def test_availability_stream_is_public_only_for_active_listings(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    active = open_listing(api, owner, admin)
    r = api.client.post(f"{API}/listings", json={**_draft_spec()}, headers=owner.headers)
    draft = r.json()["id"]

    assert (
        frames(replay(api, f"/listings/{active}/availability/stream", None))[-1]["event"] == "ready"
    )
    assert replay(api, f"/listings/{draft}/availability/stream", None).status_code == 404
    assert frames(replay(api, f"/listings/{draft}/availability/stream", owner))


def test_a_bad_last_event_id_is_a_422_problem(api: Api) -> None:
    user = api.new_user()
    for bad in ("-1", "abc", "1.5", "99999999999999999999"):
        r = api.client.get(
            f"{API}/me/stream",
            params={"live": "false"},
            headers=user.headers | {"Last-Event-ID": bad},
        )
        assert r.status_code == 422, bad
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] in {"invalid_last_event_id", "validation_error"}


def test_the_header_wins_over_the_query_and_ready_names_the_resume_point(api: Api) -> None:
    user = api.new_user()
    head = api.container.store.current_position()
    r = replay(api, "/me/stream", user, after=0, **{"Last-Event-ID": str(head + 5)})
    [ready] = frames(r)
    assert ready["event"] == "ready" and int(ready["id"]) == head + 5
    [fresh] = frames(replay(api, "/me/stream", user, after=None))
    assert int(fresh["id"]) >= head


def _draft_spec() -> dict[str, Any]:
    from tests.builders import listing_spec

    return listing_spec(title="Still a draft")
