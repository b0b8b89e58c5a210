"""A whole stay walked over HTTP as a client would, driven by the real movable clock
(`POST /dev/clock`): an owner signs up and verifies the email, uploads two photos, lists
with a deposit; an admin approves; a renter finds it, books and pays; both check in and
out with reports citing a photo; both review and both are published together; the
inspection window closes, the deposit is released (payment view, ledger) and the owner is
paid out. Every view read waits with `X-Rentbook-Min-Position`. On PostgreSQL + Redis (rq
jobs) in full, and shortened on the embedded default."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from httpx import Response

from infrastructure.simulated_gateway import SimulatedGateway
from tests import image_files as f
from tests.builders import listing_spec
from tests.http.conftest import API, PASSWORD, Api, Auth
from tests.polling import eventually

MIN = "X-Rentbook-Min-Position"
DEPOSIT = {"amount": 20_000, "currency": "EUR"}


@dataclass
class Walk:
    """One HTTP client's view of the marketplace: every command's position is kept, and
    every read waits for the newest one."""

    api: Api
    position: str = "0"
    seen: dict[str, Any] = field(default_factory=dict)

    def send(
        self, method: str, path: str, who: Auth | None = None, status: int = 200, **kw: Any
    ) -> Any:
        headers = (who.headers if who else {}) | kw.pop("headers", {})
        r: Response = self.api.client.request(method, f"{API}{path}", headers=headers, **kw)
        assert r.status_code == status, r.text
        if "X-Rentbook-Position" in r.headers:
            self.position = max(self.position, r.headers["X-Rentbook-Position"], key=int)
        return r.json() if r.content else None

    def post(self, path: str, who: Auth | None = None, status: int = 200, **kw: Any) -> Any:
        return self.send("POST", path, who, status, **kw)

    def get(self, path: str, who: Auth | None = None, **kw: Any) -> Any:
        return self.send("GET", path, who, headers={MIN: self.position}, **kw)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get("/dev/clock")["now"])

    def advance_to(self, when: datetime, who: Auth) -> None:
        """Moves the application's clock to `when` through the dev endpoint."""
        seconds = int((when - self.now()).total_seconds())
        assert seconds > 0, f"{when} is not ahead"
        self.post("/dev/clock", who, json={"advance": f"PT{seconds}S"})

    def advance(self, duration: str, who: Auth) -> None:
        self.post("/dev/clock", who, json={"advance": duration})

    def sign_up_verified(self, name: str) -> Auth:
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": PASSWORD, "name": name}
        user = self.post("/auth/register", json=body, status=201)
        assert user["email_verified"] is False
        token = self.api.mailer.last_token(email, "verify_email")  # read from the inbox
        self.post("/auth/verify-email", json={"token": token})
        return self.api.login(email)

    def upload(self, who: Auth, data: bytes) -> dict[str, Any]:
        files = {"file": ("photo.jpg", data, "image/jpeg")}
        media: dict[str, Any] = self.post("/media", who, status=201, files=files)
        return media


def publish_listing(w: Walk, owner: Auth, admin: Auth, title: str) -> tuple[str, list[str]]:
    photos = [w.upload(owner, f.jpeg(640, 480))["id"], w.upload(owner, f.jpeg(320, 240))["id"]]
    spec = listing_spec(title=title, deposit=DEPOSIT, photos=photos)
    listing = w.post("/listings", owner, status=201, json=spec)
    assert listing["status"] == "draft" and listing["cover_photo_id"] == photos[0]
    assert w.post(f"/listings/{listing['id']}/submit", owner)["status"] == "pending_review"
    assert w.post(f"/admin/listings/{listing['id']}/approve", admin)["status"] == "active"
    return str(listing["id"]), photos


def book_and_pay(w: Walk, renter: Auth, listing_id: str, title: str) -> dict[str, Any]:
    word = title.split()[-1]
    hits = w.get("/search/listings", params={"q": word})["data"]
    assert [h["id"] for h in hits] == [listing_id]
    assert hits[0]["cover_thumbnail_url"]
    today = w.now().date()
    period = {"start": (today + timedelta(days=2)).isoformat()}
    period["end"] = (today + timedelta(days=4)).isoformat()
    booking = w.post("/bookings", renter, status=201, json={"listing_id": listing_id, **period})
    payment_id = w.post(f"/bookings/{booking['id']}/payment", renter)["payment_id"]
    w.post(f"/dev/payments/{payment_id}/succeed", renter)  # the charge and the deposit hold

    def confirmed() -> dict[str, Any] | None:  # with rq, the webhook's work is a queued job
        seen: dict[str, Any] = w.get(f"/bookings/{booking['id']}", renter)
        return seen if seen["status"] == "confirmed" else None

    def status() -> str:
        return str(w.get(f"/bookings/{booking['id']}", renter)["status"])

    result: dict[str, Any] = eventually(confirmed, "confirmation", seen=status)
    return result


def report(photo_id: str, status: str = "ok", note: str = "As listed") -> dict[str, Any]:
    return {
        "report": {
            "items": [{"name": "Sofa", "status": status, "note": note, "photo_ids": [photo_id]}]
        }
    }


def stay_and_review(
    w: Walk, owner: Auth, renter: Auth, booking: dict[str, Any], owner_photo: str
) -> dict[str, Any]:
    """Check in and out on both sides, each report citing a photo its reporter uploaded,
    then both reviews; returns the booking after the check-outs."""
    booking_id = booking["id"]
    renter_photo = w.upload(renter, f.jpeg(200, 150))["id"]
    start_at = datetime.fromisoformat(booking["deadlines"]["start_at"])
    end_at = datetime.fromisoformat(booking["deadlines"]["end_at"])
    w.advance_to(start_at - timedelta(hours=2), renter)  # early, within the grace hours
    stayed = w.post(f"/bookings/{booking_id}/check-in", renter, json=report(renter_photo))
    assert stayed["status"] == "in_progress"
    w.post(f"/bookings/{booking_id}/check-in", owner, json=report(owner_photo))
    w.advance_to(end_at - timedelta(hours=1), renter)
    left = w.post(f"/bookings/{booking_id}/check-out", renter, json=report(renter_photo))
    assert left["status"] == "awaiting_return_inspection"
    w.post(f"/bookings/{booking_id}/check-out", owner, json=report(owner_photo))
    seen: dict[str, Any] = w.get(f"/bookings/{booking_id}", owner)
    for reports in (seen["check_ins"], seen["check_outs"]):
        cited = {side: r["report"]["items"][0]["photo_ids"] for side, r in reports.items()}
        assert cited == {"renter": [renter_photo], "owner": [owner_photo]}, reports

    review = {"rating": 5, "comment": "Spotless.", "category_ratings": {"cleanliness": 5}}
    first = w.post(f"/bookings/{booking_id}/reviews", renter, status=201, json=review)
    assert first["status"] == "pending"
    # Double-blind: the owner sees nothing of the renter's review yet.
    listing_reviews = w.get(f"/listings/{booking['listing_id']}/reviews")["data"]
    assert listing_reviews == []
    about_renter = {"rating": 4, "comment": "Careful guest.", "category_ratings": {"care": 4}}
    second = w.post(f"/bookings/{booking_id}/reviews", owner, status=201, json=about_renter)
    assert second["status"] == "published"
    both = w.get(f"/bookings/{booking_id}/reviews", renter)["reviews"]
    assert sorted(r["status"] for r in both) == ["published", "published"]
    return seen


def test_a_whole_stay_on_postgres_ends_in_two_published_reviews_and_a_released_deposit(
    pg_api: Api,
) -> None:
    w = Walk(pg_api)
    owner, renter, admin = w.sign_up_verified("Olga"), w.sign_up_verified("Rui"), pg_api.admin()
    title = f"Loft {uuid.uuid4().hex[:10]}"
    listing_id, photos = publish_listing(w, owner, admin, title)
    # The owner onboards at the processor (its hosted pages, simulated here) to be paid out.
    account = w.post("/me/payout-account", owner, json={})
    gateway = pg_api.container.gateway
    assert isinstance(gateway, SimulatedGateway)
    gateway.complete_onboarding(account["account_id"])

    booking = book_and_pay(w, renter, listing_id, title)
    stay_and_review(w, owner, renter, booking, photos[0])

    listing = w.get(f"/listings/{listing_id}")
    assert (listing["rating"], listing["review_count"]) == (5.0, 1)
    assert listing["category_ratings"] == {"cleanliness": 5.0}
    profile = w.get(f"/users/{owner.id}")
    assert profile["verified"] == ["email"]
    assert profile["reviews"]["count"] == 1 and profile["reviews"]["average"] == 5.0
    assert w.get(f"/users/{renter.id}")["reviews"]["average"] == 4.0

    w.advance("PT49H", owner)  # past the 48 h inspection window: completed
    assert w.get(f"/bookings/{booking['id']}", owner)["status"] in ("completed", "settled")

    rows: list[Any] = []
    wiring = pg_api.container.payments_wiring
    assert wiring is not None

    def payout() -> Any:
        # The release and the transfer are rq jobs: run what is queued here too, so a busy
        # worker thread cannot hold the test up (the jobs are idempotent by key).
        wiring.jobs.work(burst=True)
        w.position = str(pg_api.container.store.current_position())
        rows[:] = w.get("/me/payouts", owner)["data"]
        [row] = rows
        return row["deposit_status"] == "released" and row["payout_status"] == "sent" and row

    row = eventually(payout, "deposit released and payout sent", seen=lambda: rows)
    assert row["paid_out"] == row["owner_payout"] and row["paid_out"]["amount"] > 0
    ledger = pg_api.container.ledger
    assert ledger is not None
    ledger.catch_up()  # the ledger thread may be a tick behind the payment events
    w.position = str(pg_api.container.store.current_position())
    entries = w.get("/admin/ledger/entries", admin, params={"booking_id": booking["id"]})
    types = [e["source_type"] for e in entries["data"]]
    assert "Payment.DepositReleased" in types and "Payment.DepositCaptured" not in types
    verified = w.get("/admin/ledger/verify", admin)
    assert verified["balanced"] is True and verified["derived_matches_recorded"] is True


def test_the_same_stay_shortened_on_the_embedded_default(api: Api) -> None:
    w = Walk(api)
    owner, renter, admin = w.sign_up_verified("Olga"), w.sign_up_verified("Rui"), api.admin()
    title = f"Cabin {uuid.uuid4().hex[:10]}"
    listing_id, photos = publish_listing(w, owner, admin, title)
    booking = book_and_pay(w, renter, listing_id, title)
    stay_and_review(w, owner, renter, booking, photos[0])
    assert w.get(f"/listings/{listing_id}")["rating"] == 5.0
    assert w.get(f"/users/{owner.id}")["reviews"]["count"] == 1

    w.advance("PT49H", owner)

    def released() -> Any:
        w.position = str(api.container.store.current_position())
        [row] = w.get("/me/payouts", owner)["data"]
        return row["deposit_status"] == "released"

    eventually(released, "deposit released")
