"""`scrub_text` skips the secret patterns when a few string scans show a text cannot match
them (infrastructure/structured_logging.py): for any text it answers exactly what running
every pattern would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.structured_logging import (
    _DIGITS,
    _SECRET_TEXT,
    REDACTED,
    _mask_card,
    scrub_text,
)

FRAGMENTS = [
    "bearer ",
    "BeArEr\t",
    "sk_",
    "rk_",
    "whsec_",
    "_secret_",
    "t=",
    ",v1=",
    "4242",
    "-",
    " ",
]
texts = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS), st.text(alphabet="0123456789 -_=,:.TZabkrsv", max_size=6)
    ),
    max_size=12,
).map("".join)


def every_pattern(text: str) -> str:
    for pattern in _SECRET_TEXT:
        text = pattern.sub(REDACTED, text)
    return _DIGITS.sub(_mask_card, text)


@given(texts)
def test_the_prefilter_never_lets_a_secret_through(text: str) -> None:
    assert scrub_text(text) == every_pattern(text)


def test_an_access_lines_texts_are_left_as_they_are_and_secrets_still_go() -> None:
    for text in ("2026-12-06T04:17:09.899754Z", "/api/v1/users/me", "rentbook.access", "GET"):
        assert scrub_text(text) == text
    assert scrub_text("paid with 4242 4242 4242 4242") == f"paid with {REDACTED}"
    assert scrub_text("Authorization: Bearer abc.def") == f"Authorization: {REDACTED}"
