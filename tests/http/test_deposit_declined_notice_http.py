"""A declined deposit hold reaches the renter, through the real flow (the dev card network's
webhook → Payment.DepositDeclined → the notifications view → the mail dispatcher), on the
embedded default and on PostgreSQL: an in-app notification, a mail (text and HTML), and the
trip page says it while the booking waits for its deposit."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from typing import Any

from tests.http.bookings_support import Market, open_listing
from tests.http.conftest import Api
from tests.http.test_disputes_http import DEPOSIT
from tests.http.test_notifications_http import any_api, page  # noqa: F401 (a fixture)
from tests.polling import eventually
from tests.web.helpers import browser_login, wait_views


def _declined(api: Api) -> tuple[Market, str, str]:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, deposit=DEPOSIT))
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    declined = {"step": "deposit", "reason": "insufficient_funds"}
    r = m.post(f"/dev/payments/{payment_id}/fail", m.renter, declined)
    assert r.status_code == 200, r.text
    r = m.post(f"/dev/payments/{payment_id}/succeed", m.renter, {"step": "charge"})
    assert r.status_code == 200, r.text
    return m, booking_id, payment_id


def _mail(api: Api, kind: str, to: str, timeout: float = 15.0) -> EmailMessage:
    """The mail the dispatcher wrote (a job, after the view): waits for its file."""

    def mail() -> EmailMessage | None:
        for path in api.container.settings.mail_root.glob("*.eml"):
            parsed: Any = email.message_from_bytes(path.read_bytes(), policy=default)
            if parsed["X-Rentbook-Notification"] == kind and parsed["To"] == to:
                return parsed  # type: ignore[no-any-return]
        return None

    return eventually(mail, f"a {kind} mail to {to}", timeout=timeout)


def test_the_renter_is_notified_in_app_and_by_mail(any_api: Api) -> None:  # noqa: F811
    m, booking_id, _ = _declined(any_api)

    notes = [n for n in page(any_api, m.renter)["data"] if n["kind"] == "deposit_declined"]
    assert len(notes) == 1
    assert notes[0]["data"]["booking_id"] == booking_id
    assert notes[0]["data"]["reason"] == "insufficient_funds"
    owner_kinds = {n["kind"] for n in page(any_api, m.owner)["data"]}
    assert "deposit_declined" not in owner_kinds  # the renter's card, the renter's to fix

    mail = _mail(any_api, "deposit_declined", m.renter.email)
    assert mail["Subject"].startswith("Deposit hold declined for ")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "another card" in text and "another card" in html and "<p>" in html


def test_the_trip_page_says_so_until_another_card_secures_the_hold(api: Api) -> None:
    m, booking_id, payment_id = _declined(api)
    browser_login(api.client, m.renter.email)
    wait_views(api, api.container.store.current_position())

    trip = api.client.get(f"/trips/{booking_id}")
    assert trip.status_code == 200
    assert 'id="deposit-declined"' in trip.text and "another card" in trip.text

    r = m.post(f"/dev/payments/{payment_id}/succeed", m.renter, {"step": "deposit"})
    assert r.status_code == 200, r.text
    wait_views(api, api.container.store.current_position())
    trip = api.client.get(f"/trips/{booking_id}")
    assert 'id="deposit-declined"' not in trip.text
    assert 'data-status="confirmed"' in trip.text
