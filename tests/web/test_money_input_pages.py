"""Amounts typed into forms are read with the currency's own decimals (ISO 4217: none for
yen, two for euros, three for Kuwaiti and Bahraini dinars), exactly, and anything else is a
form error next to the field rather than a rounded or refused command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.money import MAX_MINOR_UNITS, major_units, minor_units
from interfaces.web.host_coupons import terms_from_form
from interfaces.web.templating import money
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1500", "JPY", 1500),
        ("95", "EUR", 9500),
        ("95.5", "EUR", 9550),
        ("95.50", "EUR", 9550),
        ("0.05", "EUR", 5),
        ("12", "KWD", 12_000),
        ("12.345", "KWD", 12_345),
        ("0.5", "BHD", 500),
    ],
)
def test_a_typed_amount_is_read_in_the_currencys_minor_units(
    text: str, currency: str, minor: int
) -> None:
    assert minor_units(text, currency) == minor
    assert minor_units(major_units(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1500.5", "JPY"),  # yen have no decimals
        ("95.505", "EUR"),  # a fraction of a cent
        ("12.3456", "KWD"),
        ("", "EUR"),
        ("-5", "EUR"),
        ("1e3", "EUR"),
        ("nan", "EUR"),
        ("inf", "EUR"),
        ("9,50", "EUR"),
        ("٩٥", "EUR"),  # digits, but not ASCII ones
        (str(MAX_MINOR_UNITS // 100 + 1), "EUR"),  # beyond what the API takes
    ],
)
def test_what_is_not_an_amount_in_the_currency_is_none(text: str, currency: str) -> None:
    assert minor_units(text, currency) is None


def test_pages_show_amounts_with_the_currencys_decimals() -> None:
    assert money(150_000, "JPY") == "¥150,000"
    assert money(9550, "EUR") == "€95.50"
    assert money(12_345, "KWD") == "12.345 KWD"
    assert money(-500, "BHD") == "-0.500 BHD"


@pytest.mark.parametrize(("value", "currency"), [("10.5", "JPY"), ("15.005", "EUR"), ("x", "EUR")])
def test_a_coupon_amount_off_that_is_not_an_amount_is_a_field_error(
    value: str, currency: str
) -> None:
    form = {"code": "SPRING", "kind": "fixed", "value": value, "currency": currency}
    _, terms, errors = terms_from_form(form, funded_by="platform", owner_id=None)
    assert terms is None and set(errors) == {"value"}


def _price(api: Api, listing_id: str, token: str, day: str, amount: str) -> Any:
    return api.client.post(
        f"/host/listings/{listing_id}/calendar",
        data={"csrf_token": token, "action": "set_price", "price_date": day,
              "price_amount": amount},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("currency", "typed", "minor", "refused"),
    [("JPY", "15000", 15_000, "15000.5"), ("EUR", "145.50", 14_550, "145.505"),
     ("KWD", "45.125", 45_125, "45.1255")],
)  # fmt: skip
def test_the_calendar_price_is_read_in_the_listings_currency_or_refused_next_to_the_field(
    api: Api, currency: str, typed: str, minor: int, refused: str
) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(
        api, owner, pricing={"base": {"amount": 10_000, "currency": currency}}
    )
    wait_views(api, position)
    token = browser_login(api.client, owner.email)
    day = (api.clock.now().date() + timedelta(days=12)).isoformat()

    r = _price(api, listing_id, token, day, refused)
    assert r.status_code == 422
    assert "Enter a price, e.g. 95 or 95.50." in r.text
    seen = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()
    assert seen["price_overrides"] == {}

    r = _price(api, listing_id, token, day, typed)
    assert r.status_code == 200, r.text
    seen = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()
    assert seen["price_overrides"] == {day: minor}
