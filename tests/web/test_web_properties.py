"""Properties of what every page relies on: money shown is exactly the minor units stored,
what owners type in major units comes back as the same minor units, and any text a user
gave is escaped."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from interfaces.web.host_wizard import _minor
from interfaces.web.templating import env, money

amounts = st.integers(min_value=-(10**12), max_value=10**12)


@given(amounts, st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY"]))
def test_money_shows_exactly_the_minor_units(amount: int, currency: str) -> None:
    shown = money(amount, currency)
    digits = int(re.sub(r"\D", "", shown))
    assert digits == abs(amount)
    assert shown.startswith("-") == (amount < 0)
    assert (currency in shown) == (currency not in ("EUR", "USD", "GBP", "JPY"))


@given(st.integers(min_value=0, max_value=10**11))
def test_a_typed_price_becomes_the_same_minor_units(amount: int) -> None:
    typed = f"{amount // 100}.{amount % 100:02d}"
    assert _minor(typed, "EUR") == amount
    assert _minor(str(amount), "JPY") == amount


@given(st.text())
def test_user_text_is_always_escaped(text: str) -> None:
    rendered = env.from_string('<p>{{ value }}</p><input value="{{ value }}">').render(value=text)
    inner = rendered[3 : rendered.index("</p>")]
    assert "<" not in inner and '"' not in inner
    assert html.unescape(inner) == text
