"""Signed tokens: genuine ones read back, anything else is `invalid_token`, late ones are
`token_expired`; a token is only ever good for the purpose and user it was made for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.tokens import TokenSigner
from domain.errors import RuleViolation
from domain.user import PASSWORD_RESET, VERIFY_EMAIL

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SIGNER = TokenSigner("a-secret-for-tests")
PURPOSES = (VERIFY_EMAIL, PASSWORD_RESET)


def token_for(purpose: str, user_id: UUID, ttl: timedelta = timedelta(hours=1)) -> str:
    return SIGNER.sign(SIGNER.issue(purpose, user_id, AT + ttl))


def code_of(token: str, purpose: str, at: datetime = AT, signer: TokenSigner = SIGNER) -> str:
    with pytest.raises(RuleViolation) as refused:
        signer.read(token, purpose, at)
    return refused.value.code


def test_a_genuine_token_reads_back_its_claims_until_it_expires() -> None:
    user_id = uuid4()
    claims = SIGNER.issue(VERIFY_EMAIL, user_id, AT + timedelta(hours=24))
    token = SIGNER.sign(claims)
    assert SIGNER.read(token, VERIFY_EMAIL, AT + timedelta(hours=23, minutes=59)) == claims
    assert code_of(token, VERIFY_EMAIL, AT + timedelta(hours=24)) == "token_expired"


def test_two_tokens_for_the_same_user_differ() -> None:
    user_id = uuid4()
    assert token_for(VERIFY_EMAIL, user_id) != token_for(VERIFY_EMAIL, user_id)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "A",
        lambda t: "A" + t,
        lambda t: t.replace(".", ""),
        lambda t: t.split(".")[0] + "." + t.split(".")[0],
        lambda t: t + ".x",
        lambda t: t + "!",
        lambda t: "",
        lambda t: "é." + t,
        lambda t: "x" * 600,
    ],
)
def test_mangled_tokens_are_invalid(mangle: object) -> None:
    token = token_for(VERIFY_EMAIL, uuid4())
    assert code_of(mangle(token), VERIFY_EMAIL) == "invalid_token"  # type: ignore[operator]


def test_another_secret_does_not_accept_our_tokens() -> None:
    token = token_for(PASSWORD_RESET, uuid4())
    assert code_of(token, PASSWORD_RESET, signer=TokenSigner("another")) == "invalid_token"


@given(
    made_for=st.sampled_from(PURPOSES),
    asked_for=st.sampled_from(PURPOSES),
    user=st.uuids(),
    other_user=st.uuids(),
)
def test_a_token_reads_only_for_its_purpose_and_names_only_its_user(
    made_for: str, asked_for: str, user: UUID, other_user: UUID
) -> None:
    token = token_for(made_for, user)
    if made_for != asked_for:
        assert code_of(token, asked_for) == "invalid_token"
        return
    claims = SIGNER.read(token, asked_for, AT)
    assert claims.user_id == user
    assert claims.purpose == made_for
    assert (claims.user_id == other_user) == (user == other_user)


@given(st.text(max_size=200))
def test_arbitrary_text_is_never_a_token(text: str) -> None:
    assert code_of(text, VERIFY_EMAIL) == "invalid_token"
