"""Contact details in message text, shown masked until a booking is confirmed.

The policy is applied when a message is read, never when it is written: the event keeps the
text as written, and a view shows it masked or not.

- An email address is any run of non-space characters around an `@` (`a@b`, `x.y+z@host.tld`).
- A phone number is a run of at least seven digits, optionally led by `+` or `(`, with spaces,
  dots, dashes, slashes or parentheses between them ("+351 912 345 678", "(212) 555-0100").
  Dates written in full digits ("2026-06-10") are masked too: the rule prefers hiding a
  date to letting a number through.
Spelled-out evasions ("john at gmail dot com") are not caught.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email hidden]"
PHONE_MASK = "[phone hidden]"
MIN_PHONE_DIGITS = 7

EMAIL = re.compile(r"\S+@\S+")
# Digits with separators between them; the digit count is checked on each match.
PHONE = re.compile(r"[+(]?\d(?:[\s().\-/]*\d)+")


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return PHONE_MASK if digits >= MIN_PHONE_DIGITS else match.group()


def mask_contacts(text: str) -> str:
    """`text` with every email address and phone number replaced by a placeholder."""
    return PHONE.sub(_phone, EMAIL.sub(EMAIL_MASK, text))


def has_contacts(text: str) -> bool:
    """Whether `text` holds something `mask_contacts` would hide."""
    if EMAIL.search(text):
        return True
    return any(_phone(m) == PHONE_MASK for m in PHONE.finditer(text))
