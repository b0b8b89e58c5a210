"""Email verification and password reset over HTTP: tokens from the mail, single use,
expiry, every session ended by a reset, no account enumeration, strict rate limits, and
refusals that record nothing (checked by the request's id)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from domain.event_meta import event_meta
from tests.builders import listing_spec
from tests.http.conftest import API, PASSWORD, Api

VERIFY = f"{API}/auth/verify-email"
RESEND = f"{API}/auth/verify-email/resend"
RESET = f"{API}/auth/password-reset"
CONFIRM = f"{API}/auth/password-reset/confirm"
NEW_PASSWORD = "a much better secret"


def refused(api: Api, response: Response, status: int, code: str) -> None:
    """A problem+json refusal whose request recorded no event at all."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    request_id = body["request_id"]
    store = api.container.store
    notes = store.recorder.select_notifications(0, 100_000)
    events = [store.mapper.to_domain_event(n) for n in notes]
    assert not [e for e in events if event_meta(e).get("request_id") == request_id]


def test_sign_up_mails_a_token_that_verifies_the_email_once(api: Api) -> None:
    user = api.register("ada@example.com", verify=False)
    assert user["email_verified"] is False
    [mail] = api.mailer.to("ada@example.com", "verify_email")
    assert mail.token and mail.token in mail.text
    r = api.client.post(VERIFY, json={"token": mail.token})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": user["id"], "email_verified": True}
    assert int(r.headers["X-Rentbook-Position"]) > 0
    me = api.login("ada@example.com")
    assert api.client.get(f"{API}/users/me", headers=me.headers).json()["email_verified"]
    refused(api, api.client.post(VERIFY, json={"token": mail.token}), 422, "invalid_token")


def test_forged_and_expired_tokens_are_422_and_record_nothing(api: Api) -> None:
    api.register("ada@example.com", verify=False)
    token = api.mailer.last_token("ada@example.com", "verify_email")
    for bad in ("", "nonsense", token[:-2], token + "x", token.replace(".", ".A", 1)):
        refused(api, api.client.post(VERIFY, json={"token": bad}), 422, "invalid_token")
    api.clock.advance(hours=24)
    refused(api, api.client.post(VERIFY, json={"token": token}), 422, "token_expired")
    r = api.client.post(VERIFY, json={"token": "x" * 600})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_resending_needs_a_session_and_supersedes_the_earlier_token(api: Api) -> None:
    api.register("ada@example.com", verify=False)
    first = api.mailer.last_token("ada@example.com", "verify_email")
    me = api.login("ada@example.com")
    assert api.client.post(RESEND).status_code == 401
    r = api.client.post(RESEND, headers=me.headers)
    assert r.status_code == 202, r.text
    second = api.mailer.last_token("ada@example.com", "verify_email")
    assert second != first
    refused(api, api.client.post(VERIFY, json={"token": first}), 422, "invalid_token")
    assert api.client.post(VERIFY, json={"token": second}).status_code == 200
    refused(api, api.client.post(RESEND, headers=me.headers), 409, "email_already_verified")


def test_an_unverified_owner_cannot_submit_a_listing_until_verified(api: Api) -> None:
    api.register("olivia@example.com", verify=False)
    owner = api.login("olivia@example.com")
    r = api.client.post(f"{API}/listings", json=listing_spec(), headers=owner.headers)
    assert r.status_code == 201, r.text
    submit = f"{API}/listings/{r.json()['id']}/submit"
    refused(api, api.client.post(submit, headers=owner.headers), 422, "email_not_verified")
    api.verify_email("olivia@example.com")
    r = api.client.post(submit, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "pending_review"


# -- password reset --------------------------------------------------------------------------


def test_a_reset_request_is_202_whether_or_not_the_account_exists(api: Api) -> None:
    api.register("ada@example.com")
    answers = [
        api.client.post(RESET, json={"email": email})
        for email in ("nobody@example.com", "ADA@example.com", "not an address")
    ]
    assert [r.status_code for r in answers] == [202, 202, 202]
    assert {r.text for r in answers} == {'{"accepted":true}'}
    assert all("X-Rentbook-Position" in r.headers for r in answers)
    assert api.mailer.to("nobody@example.com") == []
    assert len(api.mailer.to("ada@example.com", "password_reset")) == 1


def test_a_reset_sets_the_password_and_ends_every_session(api: Api) -> None:
    user = api.new_user(email="ada@example.com")
    other = api.login("ada@example.com")
    assert api.client.post(RESET, json={"email": "ada@example.com"}).status_code == 202
    token = api.mailer.last_token("ada@example.com", "password_reset")
    r = api.client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": user.id, "sessions_revoked": True}
    for old in (user, other):
        assert api.client.get(f"{API}/users/me", headers=old.headers).status_code == 401
    r = api.client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 401
    api.login("ada@example.com", NEW_PASSWORD)
    again = api.client.post(CONFIRM, json={"token": token, "password": "yet another one!"})
    refused(api, again, 422, "invalid_token")


def test_weak_passwords_and_expired_reset_tokens_are_refused(api: Api) -> None:
    api.register("ada@example.com")
    api.client.post(RESET, json={"email": "ada@example.com"})
    token = api.mailer.last_token("ada@example.com", "password_reset")
    weak = api.client.post(CONFIRM, json={"token": token, "password": "short"})
    refused(api, weak, 422, "weak_password")
    verify_token = api.mailer.last_token("ada@example.com", "verify_email")
    wrong_kind = api.client.post(CONFIRM, json={"token": verify_token, "password": NEW_PASSWORD})
    refused(api, wrong_kind, 422, "invalid_token")
    api.clock.advance(timedelta(hours=1))
    late = api.client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    refused(api, late, 422, "token_expired")
    api.login("ada@example.com")  # the old password still works


def test_auth_token_flows_are_rate_limited(api: Api) -> None:
    api.register("ada@example.com")
    api.app.state.rate_limits = {
        "auth.password_reset": (2, 900),
        "auth.password_reset_confirm": (1, 900),
        "auth.verify_email": (1, 60),
        "auth.password_reset_mail": None,
    }
    codes = [api.client.post(RESET, json={"email": "x@example.com"}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert int(api.client.post(RESET, json={"email": "a@b.co"}).headers["Retry-After"]) >= 1
    body = {"token": "bad", "password": NEW_PASSWORD}
    assert [api.client.post(CONFIRM, json=body).status_code for _ in range(2)] == [422, 429]
    assert [api.client.post(VERIFY, json={"token": "bad"}).status_code for _ in range(2)] == [
        422,
        429,
    ]


def test_one_address_gets_at_most_three_reset_mails_an_hour_and_still_202(api: Api) -> None:
    api.register("ada@example.com")
    api.app.state.rate_limits = {"auth.password_reset": None}  # the per-address limit stays
    codes = [
        api.client.post(RESET, json={"email": "ada@example.com"}).status_code for _ in range(5)
    ]
    assert codes == [202] * 5
    assert len(api.mailer.to("ada@example.com", "password_reset")) == 3


@pytest.mark.postgres
def test_verification_and_reset_on_postgres_and_redis(pg_api: Api) -> None:
    user = pg_api.new_user(email="pat@example.com")
    assert pg_api.client.get(f"{API}/users/me", headers=user.headers).json()["email_verified"]
    pg_api.client.post(RESET, json={"email": "pat@example.com"})
    token = pg_api.mailer.last_token("pat@example.com", "password_reset")
    r = pg_api.client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert pg_api.client.get(f"{API}/users/me", headers=user.headers).status_code == 401
    refused(
        pg_api,
        pg_api.client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD}),
        422,
        "invalid_token",
    )
    pg_api.login("pat@example.com", NEW_PASSWORD)
