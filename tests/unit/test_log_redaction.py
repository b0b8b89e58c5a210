"""The redaction processor: secret-named keys anywhere in a line, and secrets or card
numbers inside texts, never reach a rendered log line."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.structured_logging import REDACTED, redact_secrets, scrub_text
from tests.observability import captured_logs

SECRET_KEYS = [
    "password",
    "new_password",
    "token",
    "session_token",
    "secret",
    "client_secret",
    "authorization",
    "Authorization",
    "card",
    "card_number",
    "cvc",
    "stripe_signature",
    "Stripe-Signature",
    "api_key",
]


def _luhn_complete(prefix: str) -> str:
    """`prefix` plus the check digit that makes it a valid card number."""
    for check in "0123456789":
        number = prefix + check
        total = 0
        for i, ch in enumerate(reversed(number)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


@given(st.sampled_from(SECRET_KEYS), st.text(min_size=8, alphabet="abcdefghijk0123456789"))
def test_secret_named_keys_are_redacted_at_any_depth(key: str, value: str) -> None:
    line = redact_secrets(
        None, "info", {"event": "x", key: value, "nested": {"deeper": [{key: value}]}}
    )
    assert line[key] == REDACTED
    assert line["nested"]["deeper"][0][key] == REDACTED
    assert value not in str(line)


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_card_numbers_inside_texts_are_masked(prefix: str) -> None:
    card = _luhn_complete(prefix)
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    for shown in (card, spaced):
        assert card not in scrub_text(f"charged {shown} today").replace(" ", "")


def test_numbers_that_are_not_card_numbers_stay() -> None:
    card = _luhn_complete("173330000000")
    not_a_card = card[:-1] + str((int(card[-1]) + 1) % 10)  # fails the Luhn check
    text = f"position {not_a_card} booking 42 at 2026-12-04"
    assert scrub_text(text) == text


def test_tokens_keys_and_signatures_inside_texts_are_masked() -> None:
    for secret in (
        "Bearer abc.def-ghi",
        "sk_test_51Habcdef",
        "whsec_abcdef123",
        "pi_123_secret_456abc",
        "t=1733300000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    ):
        assert secret not in scrub_text(f"got {secret} here")


def test_context_ids_are_never_redacted_and_lines_are_json() -> None:
    with captured_logs() as logs:
        logging.getLogger("rentbook.test").info("hello %s", {"card": "4242424242424242"})
    (line,) = logs.lines()
    assert "4242424242424242" not in logs.text
    assert line["event"] == "hello {'card': '[redacted]'}"


def test_a_jobs_lines_name_the_job_and_keep_the_requests_ids() -> None:
    from application.context import Actor, command_context
    from application.work_scope import work_scope
    from infrastructure.job_telemetry import observe_job

    def job(booking_id: str) -> str:
        logging.getLogger("rentbook.jobs").info("charging %s", booking_id)
        with command_context(Actor.system()):
            logging.getLogger("rentbook.jobs").info("recorded")
        return booking_id

    with captured_logs() as logs, work_scope(request_id="req-9", correlation_id="corr-9"):
        assert observe_job("charge", job)(booking_id="b-1") == "b-1"
    # Only this job's lines: a background thread left by an earlier test may log meanwhile.
    first, second = [line for line in logs.lines() if line.get("logger") == "rentbook.jobs"]
    assert first["command"] == second["command"] == "job:charge"
    assert first["correlation_id"] == "corr-9" and first["request_id"] == "req-9"
    assert second["actor_role"] == "system" and second["correlation_id"] == "corr-9"
