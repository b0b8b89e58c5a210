"""Media over HTTP: uploads (multipart), the sizes served with immutable caching, refusals
as problems that record and store nothing, the upload rate limit, and listing photos in the
listing, the listings view and search (SQLite, and once on PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from PIL import Image

from domain.event_meta import event_meta
from tests import image_files as f
from tests.builders import listing_spec
from tests.http.conftest import API, Api, Auth, https_client, make_app
from tests.polling import eventually

MIN = "X-Rentbook-Min-Position"


def post_image(
    api: Api,
    who: Auth,
    data: bytes,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    **headers: str,
) -> Response:
    return api.client.post(
        f"{API}/media",
        files={"file": (name, data, content_type)},
        headers={**who.headers, **headers},
    )


def uploaded(api: Api, who: Auth, data: bytes | None = None) -> dict[str, Any]:
    r = post_image(api, who, data or f.jpeg())
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    body["position"] = r.headers["X-Rentbook-Position"]
    return body


def fetch(api: Api, media: dict[str, Any], size: str, **headers: str) -> Response:
    return api.client.get(
        f"{API}/media/{media['id']}/{size}", headers={MIN: media["position"], **headers}
    )


def media_files(api: Api) -> list[Path]:
    root = api.container.settings.media_root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def recorded_for(api: Api, response: Response, before: int) -> list[Any]:
    store = api.container.store
    request_id = response.json()["request_id"]
    notes = store.recorder.select_notifications(before, 10_000, inclusive_of_start=False)
    events = (store.mapper.to_domain_event(n) for n in notes)
    return [e for e in events if event_meta(e).get("request_id") == request_id]


def problem(r: Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


# -- upload and serve -------------------------------------------------------------------------


def test_an_upload_answers_201_with_its_sizes_urls_and_position(api: Api) -> None:
    owner = api.new_user()

    r = post_image(api, owner, f.jpeg(2000, 1500, orientation=6))

    assert r.status_code == 201, r.text
    body = r.json()
    base = f"{API}/media/{body['id']}"
    assert body == {
        "id": body["id"],
        "url": f"{base}/original",
        "width": 1500,  # upright: orientation 6 turned it
        "height": 2000,
        "content_type": "image/jpeg",
        "sizes": {"original": f"{base}/original", "display": f"{base}/display",
                  "thumb": f"{base}/thumb"},
    }  # fmt: skip
    assert r.headers["Location"] == f"{base}/original"
    assert int(r.headers["X-Rentbook-Position"]) > 0


def test_each_size_is_served_with_its_sha256_etag_and_cached_forever(api: Api) -> None:
    media = uploaded(api, api.new_user(), f.jpeg(2000, 1000, orientation=1))

    for size, longest in (("original", 2000), ("display", 1600), ("thumb", 400)):
        r = fetch(api, media, size)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["ETag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(r.content)) as img:
            assert max(img.size) == longest
            assert dict(img.getexif()) == {}  # EXIF and GPS are gone from what is served
        assert f.SECRET.encode() not in r.content


def test_if_none_match_with_the_etag_answers_304_without_a_body(api: Api) -> None:
    media = uploaded(api, api.new_user())
    etag = fetch(api, media, "thumb").headers["ETag"]

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = fetch(api, media, "thumb", **{"If-None-Match": sent})
        assert (r.status_code, r.content, r.headers["ETag"]) == (304, b"", etag), sent
    assert fetch(api, media, "thumb", **{"If-None-Match": '"other"'}).status_code == 200


def test_unknown_media_and_unknown_sizes_are_404_problems(api: Api) -> None:
    media = uploaded(api, api.new_user())
    unknown = {"id": "00000000-0000-4000-8000-000000000000", "position": media["position"]}

    assert problem(fetch(api, unknown, "thumb"), 404)["code"] == "media_not_found"
    assert problem(fetch(api, media, "huge"), 404)["code"] == "media_not_found"


def test_the_same_image_twice_is_two_media_over_the_same_files(api: Api) -> None:
    owner, data = api.new_user(), f.jpeg(2000, 1000)

    one, two = uploaded(api, owner, data), uploaded(api, owner, data)

    assert one["id"] != two["id"]
    for size in ("original", "display", "thumb"):
        assert fetch(api, one, size).headers["ETag"] == fetch(api, two, size).headers["ETag"]
    assert len(media_files(api)) == 3


def test_an_idempotent_upload_replays_the_first_answer(api: Api) -> None:
    owner, data = api.new_user(), f.jpeg()

    first = post_image(api, owner, data, **{"Idempotency-Key": "upload-1"})
    again = api.client.post(
        f"{API}/media",
        content=first.request.content,
        headers={
            **owner.headers,
            "Idempotency-Key": "upload-1",
            "Content-Type": first.request.headers["content-type"],
        },
    )

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type", "status", "code"),
    [
        (f.SVG, "innocent.png", "image/png", 415, "unsupported_media_type"),
        (f.gif(), "anim.gif", "image/gif", 415, "unsupported_media_type"),
        (f.HTML, "page.jpg", "image/jpeg", 415, "unsupported_media_type"),
        (f.truncated_jpeg(), "cut.jpg", "image/jpeg", 415, "unreadable_image"),
        (b"", "empty.jpg", "image/jpeg", 415, "empty_upload"),
        (f.png_bomb(), "bomb.png", "image/png", 413, "too_many_pixels"),
        (f.oversized_jpeg(), "big.jpg", "image/jpeg", 413, "file_too_large"),
    ],
    ids=["svg-renamed-png", "gif", "html", "truncated-jpeg", "empty", "png-bomb", "oversized"],
)
def test_a_refused_upload_is_a_problem_and_records_and_stores_nothing(
    api: Api, data: bytes, name: str, content_type: str, status: int, code: str
) -> None:
    owner = api.new_user()
    before = api.container.store.current_position()

    r = post_image(api, owner, data, name, content_type)

    assert problem(r, status)["code"] == code
    assert recorded_for(api, r, before) == []
    assert media_files(api) == []


def test_a_body_over_the_limit_is_refused_from_its_declared_length(api: Api) -> None:
    owner = api.new_user()
    headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=x"}
    headers["Content-Length"] = str(50 * 1024 * 1024)

    r = api.client.post(f"{API}/media", content=b"--x--\r\n", headers=headers)

    assert problem(r, 413)["code"] == "file_too_large"


def test_uploads_must_be_multipart_with_a_file_and_signed_in(api: Api) -> None:
    owner = api.new_user()

    as_json = api.client.post(f"{API}/media", json={"file": "x"}, headers=owner.headers)
    other_field = {"other": ("a.jpg", f.jpeg(), "image/jpeg")}
    no_file = api.client.post(f"{API}/media", files=other_field, headers=owner.headers)
    anonymous = api.client.post(f"{API}/media", files={"file": ("a.jpg", f.jpeg(), "image/jpeg")})

    assert problem(as_json, 415)["code"] == "multipart_required"
    assert problem(no_file, 422)["errors"] == [
        {"loc": ["body", "file"], "msg": "a file is required"}
    ]
    assert problem(anonymous, 401)["code"] == "not_authenticated"
    assert media_files(api) == []


def test_uploads_are_rate_limited_per_user(api: Api) -> None:
    app = make_app(api.container, rate_limits={"media.upload": (2, 3600)})
    alice, bob = api.new_user(), api.new_user()
    with https_client(app) as client:

        def send(who: Auth) -> Response:
            files = {"file": ("a.jpg", f.jpeg(), "image/jpeg")}
            return client.post(f"{API}/media", files=files, headers=who.headers)

        statuses = [send(alice).status_code for _ in range(3)]
        refused = send(alice)
        assert statuses == [201, 201, 429]
        assert problem(refused, 429)["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) > 0
        assert send(bob).status_code == 201


# -- listing photos ---------------------------------------------------------------------------


def test_listing_photos_in_the_listing_its_view_and_search(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    a, b = uploaded(api, owner, f.jpeg(30, 20)), uploaded(api, owner, f.jpeg(20, 30))

    r = api.client.post(
        f"{API}/listings",
        json=listing_spec(title="Photographed loft", photos=[b["id"], a["id"]]),
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    listing = r.json()
    assert [p["id"] for p in listing["photos"]] == [b["id"], a["id"]]
    assert listing["photos"][0]["urls"] == b["sizes"]
    assert listing["cover_photo_id"] == b["id"]

    r = api.client.patch(
        f"{API}/listings/{listing['id']}",
        json={"cover_photo_id": a["id"]},
        headers={**owner.headers, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["cover_photo_id"] == a["id"]
    mine = api.client.get(
        f"{API}/me/listings", headers={**owner.headers, MIN: r.headers["X-Rentbook-Position"]}
    ).json()["data"][0]
    assert (mine["cover_photo_id"], mine["photos"]) == (a["id"], r.json()["photos"])

    for step in ("submit", "approve"):
        who, path = (owner, "listings") if step == "submit" else (admin, "admin/listings")
        r = api.client.post(f"{API}/{path}/{listing['id']}/{step}", headers=who.headers)
        assert r.status_code == 200, r.text
    assert api.client.get(f"{API}/listings/{listing['id']}").json()["cover_photo_id"] == a["id"]
    hit = search_hit(api, listing["id"], r.headers["X-Rentbook-Position"])
    assert hit["cover_thumbnail_url"] == a["sizes"]["thumb"]


def search_hit(api: Api, listing_id: str, position: str, timeout: float = 15.0) -> dict[str, Any]:
    """The listing's hit: the view is waited for by position, the index syncs after it."""

    def hits() -> list[Any]:
        r = api.client.get(f"{API}/search/listings", params={"q": "photographed"},
                           headers={MIN: position})  # fmt: skip
        assert r.status_code == 200, r.text
        return [h for h in r.json()["data"] if h["id"] == listing_id]

    return dict(eventually(hits, "the listing in the index", timeout=timeout)[0])


def test_photos_that_are_not_the_owners_media_are_refused_by_id(api: Api) -> None:
    owner, other = api.new_user(), api.new_user()
    mine, theirs = uploaded(api, owner), uploaded(api, other)
    unknown = "00000000-0000-4000-8000-00000000beef"
    before = api.container.store.current_position()

    r = api.client.post(
        f"{API}/listings",
        json=listing_spec(photos=[mine["id"], theirs["id"], unknown]),
        headers=owner.headers,
    )

    body = problem(r, 422)
    assert body["code"] == "unknown_photos"
    assert theirs["id"] in body["detail"] and unknown in body["detail"]
    assert mine["id"] not in body["detail"]
    assert recorded_for(api, r, before) == []


def test_a_cover_that_is_not_a_photo_and_over_20_photos_are_422(api: Api) -> None:
    owner = api.new_user()
    photo = uploaded(api, owner)
    other = "00000000-0000-4000-8000-00000000beef"

    bad_cover = listing_spec(photos=[photo["id"]], cover_photo_id=other)
    too_many = listing_spec(photos=[f"00000000-0000-4000-8000-{i:012d}" for i in range(21)])
    for body in (bad_cover, too_many):
        r = api.client.post(f"{API}/listings", json=body, headers=owner.headers)
        assert problem(r, 422)["code"] in {"invalid_listing", "validation_failed"}


@pytest.mark.postgres
def test_upload_serve_and_listing_photos_on_postgres(pg_api: Api) -> None:
    owner = pg_api.new_user()
    media = uploaded(pg_api, owner, f.png_with_metadata())

    served = fetch(pg_api, media, "original")
    r = pg_api.client.post(
        f"{API}/listings", json=listing_spec(photos=[media["id"]]), headers=owner.headers
    )

    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert f.SECRET.encode() not in served.content
    assert r.status_code == 201, r.text
    mine = pg_api.client.get(
        f"{API}/me/listings", headers={**owner.headers, MIN: r.headers["X-Rentbook-Position"]}
    ).json()["data"][0]
    assert mine["cover_photo_id"] == media["id"]
    assert mine["photos"] == [{"id": media["id"], "urls": media["sizes"]}]
