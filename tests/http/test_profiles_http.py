"""Profiles over HTTP: `PATCH /users/me` edits bio, languages and avatar (If-Match), and the
public `GET /users/{id}` shows them with badges and response statistics, never the email or
phone, read from the view with X-Rentbook-Min-Position."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing
from tests.http.test_media_http import uploaded
from tests.http.test_verification_http import refused

ME = f"{API}/users/me"


def public(api: Api, user_id: str, position: str | int | None = None) -> Any:
    position = position if position is not None else api.container.store.current_position()
    return api.client.get(
        f"{API}/users/{user_id}", headers={"X-Rentbook-Min-Position": str(position)}
    )


def patch(api: Api, who: Auth, body: dict[str, Any], **headers: str) -> Any:
    return api.client.patch(ME, json=body, headers=who.headers | headers)


def test_editing_the_profile_shows_on_the_public_profile(api: Api) -> None:
    ada = api.new_user(name="Ada", phone="+44 20 7946 0000")
    avatar = uploaded(api, ada)["id"]
    r = patch(api, ada, {"bio": "Sails.", "languages": ["en", "PT"], "avatar_media_id": avatar})
    assert r.status_code == 200, r.text
    assert (r.json()["bio"], r.json()["languages"]) == ("Sails.", ["en", "pt"])
    assert r.json()["avatar_media_id"] == avatar
    got = public(api, ada.id, r.headers["X-Rentbook-Position"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["name"] == "Ada" and body["bio"] == "Sails." and body["languages"] == ["en", "pt"]
    assert body["avatar"] == {
        "thumb": f"/api/v1/media/{avatar}/thumb",
        "display": f"/api/v1/media/{avatar}/display",
    }
    assert body["verified"] == ["email"]
    assert body["response_rate"] is None and body["median_response_seconds"] is None
    assert body["member_since"].startswith(api.clock.now().date().isoformat())
    assert "email" not in body and "phone" not in body
    assert ada.email not in got.text and "7946" not in got.text
    someone_elses = uploaded(api, api.new_user())["id"]
    refused = patch(api, ada, {"avatar_media_id": someone_elses})
    assert refused.status_code == 422 and refused.json()["code"] == "media_not_found"
    r = patch(api, ada, {"avatar_media_id": None})
    assert public(api, ada.id, r.headers["X-Rentbook-Position"]).json()["avatar"] is None


def test_an_unverified_user_has_no_badge(api: Api) -> None:
    user = api.register(verify=False)
    assert public(api, user["id"]).json()["verified"] == []


def test_if_match_guards_profile_edits(api: Api) -> None:
    ada = api.new_user()
    etag = api.client.get(ME, headers=ada.headers).headers["ETag"]
    assert patch(api, ada, {"bio": "One."}, **{"If-Match": etag}).status_code == 200
    stale = patch(api, ada, {"bio": "Two."}, **{"If-Match": etag})
    refused(api, stale, 412, "version_mismatch")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"bio": "x" * 2001}, "validation_failed"),
        ({"languages": ["xx"]}, "invalid_language"),
        ({"languages": "en"}, "validation_failed"),
        ({"avatar_media_id": "not-a-uuid"}, "validation_failed"),
        ({"bio": "nul \x00"}, "validation_failed"),
        ({"email": "new@example.com"}, "validation_failed"),
    ],
)
def test_bad_profile_edits_are_422_and_record_nothing(
    api: Api, body: dict[str, Any], code: str
) -> None:
    ada = api.new_user()
    refused(api, patch(api, ada, body), 422, code)


def test_an_avatar_must_be_media_the_user_uploaded_when_media_is_wired(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = api.new_user()
    mine = uuid4()

    class Catalog:
        def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
            return [m for m in media_ids if not (owner_id == UUID(ada.id) and m == mine)]

    monkeypatch.setattr(api.container, "media_catalog", Catalog())
    api.container.__dict__.pop("profiles", None)  # rebuilt with the catalog
    refused(api, patch(api, ada, {"avatar_media_id": str(uuid4())}), 422, "media_not_found")
    assert patch(api, ada, {"avatar_media_id": str(mine)}).status_code == 200


def test_unknown_and_suspended_users_are_404(api: Api) -> None:
    assert public(api, str(uuid4())).status_code == 404
    ada, admin = api.new_user(), api.admin()
    api.container.identity.suspend_user(
        UUID(ada.id), by_admin=UUID(admin.id), reason="spam", at=api.clock.now()
    )
    r = public(api, ada.id)
    assert r.status_code == 404 and r.json()["code"] == "user_not_found"
    assert api.client.get(f"{API}/users/not-a-uuid").status_code == 422


def test_an_owner_shows_response_rate_and_median_response_time(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, booking_mode="request"))
    quick, slow, unanswered = (m.placed(30 + 3 * n, 31 + 3 * n)["id"] for n in range(3))
    api.clock.advance(hours=1)
    assert m.post(f"/bookings/{quick}/approve", owner).status_code == 200
    api.clock.advance(hours=2)
    r = m.post(f"/bookings/{slow}/decline", owner, json={"reason": "busy"})
    assert r.status_code == 200, r.text
    # The third request expires unanswered: move the app's clock and let the scheduler run.
    r = api.client.post(f"{API}/dev/clock", json={"advance": "PT22H"}, headers=renter.headers)
    assert r.status_code == 200, r.text
    assert m.get(unanswered).json()["status"] == "cancelled"
    body = public(api, owner.id, r.headers["X-Rentbook-Position"]).json()
    assert body["response_rate"] == pytest.approx(2 / 3)
    assert body["median_response_seconds"] == round((1 * 3600 + 3 * 3600) / 2)


@pytest.mark.postgres
def test_profiles_on_postgres(pg_api: Api) -> None:
    pat = pg_api.new_user(name="Pat")
    r = patch(pg_api, pat, {"bio": "Hi.", "languages": ["de"]})
    assert r.status_code == 200, r.text
    body = public(pg_api, pat.id, r.headers["X-Rentbook-Position"]).json()
    assert (body["name"], body["bio"], body["languages"]) == ("Pat", "Hi.", ["de"])
    assert body["verified"] == ["email"]
    assert public(pg_api, str(uuid4())).status_code == 404
