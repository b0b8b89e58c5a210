"""Structured logs over real requests: every line is JSON with the request id, correlation
id, actor and command, and no password, session token, reset token, client secret or
webhook signature appears anywhere in the output."""

from __future__ import annotations

import logging
import time
from uuid import UUID

import stripe
import structlog

from infrastructure.settings import Settings
from infrastructure.simulated_gateway import DEFAULT_WEBHOOK_SECRET, SimulatedGateway
from tests.http.conftest import API, PASSWORD, Api
from tests.http.test_bookings_http import Market, open_listing
from tests.http.test_payments_http import WEBHOOK, _event
from tests.observability import captured_logs

NEW_PASSWORD = "a brand new passphrase"


def test_login_lines_carry_ids_and_actor_but_no_password_or_token(api: Api) -> None:
    user = api.new_user()
    with captured_logs() as logs:
        r = api.client.post(
            f"{API}/auth/login",
            json={"email": user.email, "password": PASSWORD},
            headers={"X-Request-Id": "req-login-1"},
        )
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        me = api.client.get(
            f"{API}/users/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-me-1"},
        )
        assert me.status_code == 200
        # A careless line in our code: the processors still keep the secrets out.
        logging.getLogger("rentbook.test").info(
            "login attempt with %s and Bearer %s", {"password": PASSWORD}, token
        )
        structlog.get_logger("rentbook.test").info("login", password=PASSWORD, token=token)
    lines = logs.lines()
    assert PASSWORD not in logs.text and token not in logs.text
    login = next(li for li in lines if li.get("request_id") == "req-login-1")
    assert login["command"] == "login" and login["correlation_id"] == "req-login-1"
    assert login["event"] == "request" and login["status"] == 200
    me_line = next(li for li in lines if li.get("request_id") == "req-me-1")
    assert me_line["actor_id"] == user.id and me_line["actor_role"] == "user"
    assert {"timestamp", "level", "logger"} <= me_line.keys()


def test_password_reset_logs_no_reset_token_and_no_new_password(api: Api) -> None:
    user = api.new_user()
    with captured_logs() as logs:
        r = api.client.post(f"{API}/auth/password-reset", json={"email": user.email})
        assert r.status_code == 202
        token = api.mailer.last_token(user.email, "password_reset")
        r = api.client.post(
            f"{API}/auth/password-reset/confirm",
            json={"token": token, "password": NEW_PASSWORD},
            headers={"X-Request-Id": "req-reset-1"},
        )
        assert r.status_code == 200, r.text
        logging.getLogger("rentbook.test").warning("reset %s", {"new_password": NEW_PASSWORD})
    assert token not in logs.text and NEW_PASSWORD not in logs.text
    line = next(li for li in logs.lines() if li.get("request_id") == "req-reset-1")
    assert line["command"] == "confirm_password_reset"
    assert line["correlation_id"] == "req-reset-1"


def test_payment_webhook_logs_neither_signature_nor_client_secret(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    market = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    booking = market.placed()
    with captured_logs() as logs:
        r = market.post(f"/bookings/{booking['id']}/payment", renter)
        assert r.status_code == 200, r.text
        client_secret = r.json()["client_secret"]
        payment_id = r.json()["payment_id"]
        gateway = api.container.gateway
        assert isinstance(gateway, SimulatedGateway)
        payment = api.container.store.load(UUID(payment_id), "payment")
        total = booking["quote"]["total"]
        amount = total["amount"] if isinstance(total, dict) else total
        intent = {
            "id": payment.charge["intent_id"],
            "object": "payment_intent",
            "status": "succeeded",
            "amount": amount,
            "amount_received": amount,
            "currency": "eur",
            "latest_charge": "ch_test_log",
            "metadata": {"payment_id": payment_id, "booking_id": booking["id"], "step": "charge"},
        }
        payload = _event("evt_log_1", "payment_intent.succeeded", intent)
        signature = stripe.WebhookSignature.generate_signature_header(
            payload.decode(), DEFAULT_WEBHOOK_SECRET, int(time.time())
        )
        r = api.client.post(
            WEBHOOK,
            content=payload,
            headers={
                "Stripe-Signature": signature,
                "Content-Type": "application/json",
                "X-Request-Id": "req-hook-1",
            },
        )
        assert r.status_code == 200, r.text
        logging.getLogger("rentbook.test").info(
            "webhook %s signed %s for %s", {"stripe_signature": signature}, signature, client_secret
        )
    text = logs.text
    assert client_secret and client_secret not in text
    assert signature.split(",v1=")[1] not in text and DEFAULT_WEBHOOK_SECRET not in text
    hook = next(li for li in logs.lines() if li.get("request_id") == "req-hook-1")
    assert hook["correlation_id"] == "req-hook-1" and hook["command"]


def test_development_logs_are_readable_console_lines(api: Api) -> None:
    with captured_logs(Settings(environment="development")) as logs:
        api.client.get("/health", headers={"X-Request-Id": "req-dev-1"})
    line = logs.text.strip().splitlines()[-1]
    assert not line.startswith("{") and "request" in line and "req-dev-1" in line
