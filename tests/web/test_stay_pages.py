"""A trip's stay pages over HTTP: check-in and check-out with a condition report and a
photo, the double-blind review, a dispute; 404 for another user, 403 without CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.http.test_stays_http import make_stay
from tests.image_files import jpeg
from tests.web.helpers import API, Api, browser_login


def test_check_in_and_out_with_a_report_then_review_and_dispute(api: Api) -> None:
    s = make_stay(api)
    s.at(s.start_at)
    token = browser_login(api.client, s.m.renter.email)
    trip = api.client.get(f"/trips/{s.id}")
    assert f'href="/trips/{s.id}/check-in"' in trip.text
    form = api.client.get(f"/trips/{s.id}/check-in")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert api.client.post(f"/trips/{s.id}/check-in", data={"name_0": "Sofa"}).status_code == 403
    r = api.client.post(
        f"/trips/{s.id}/check-in",
        data={"csrf_token": token, "name_0": "Sofa", "status_0": "ok", "note_0": "Clean"},
        files={"photo_0": ("sofa.jpg", jpeg(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    booking = s.get()
    assert booking["status"] == "in_progress"
    item = booking["check_ins"]["renter"]["report"]["items"][0]
    assert item["name"] == "Sofa" and item["note"] == "Clean" and len(item["photo_ids"]) == 1
    again = api.client.post(f"/trips/{s.id}/check-in", data={"csrf_token": token})
    assert again.status_code == 422 and 'id="stay-error"' in again.text  # once per side

    s.at(s.end_at - timedelta(hours=2))
    token = browser_login(api.client, s.m.renter.email)
    r = api.client.post(
        f"/trips/{s.id}/check-out", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert s.get()["status"] == "awaiting_return_inspection"

    page = api.client.get(f"/trips/{s.id}/review")
    assert page.status_code == 200 and "double-blind" in page.text
    bad = api.client.post(f"/trips/{s.id}/review", data={"csrf_token": token, "comment": "x"})
    assert bad.status_code == 422 and "Pick a rating" in bad.text
    r = api.client.post(
        f"/trips/{s.id}/review",
        data={"csrf_token": token, "rating": "5", "comment": "Lovely place"},
    )
    assert r.status_code == 200 and "Your review" in r.text and "Pending" in r.text
    reviews = api.client.get(f"{API}/bookings/{s.id}/reviews", headers=s.m.renter.headers)
    assert [x["status"] for x in reviews.json()["reviews"]] == ["pending"]

    r = api.client.post(
        f"/trips/{s.id}/dispute",
        data={"csrf_token": token, "type": "not_as_described", "description": "No hot water"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert s.get()["status"] == "disputed"


def test_stay_pages_of_another_users_trip_are_not_found(api: Api) -> None:
    s = make_stay(api)
    stranger = api.register()
    token = browser_login(api.client, stranger["email"])
    for path in ("check-in", "check-out", "review", "dispute"):
        assert api.client.get(f"/trips/{s.id}/{path}").status_code == 404, path
    r = api.client.post(
        f"/trips/{s.id}/dispute",
        data={"csrf_token": token, "type": "other", "description": "mine?"},
    )
    assert r.status_code == 404
    assert re.search(r"Not found", r.text)
