"""Properties of the owner and admin tools' input handling: any text in the date range of
the dashboard and analytics gives a non-empty, bounded range (or the default with an
error), and any coupon form gives valid terms or field errors, never an exception."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.money import MAX_MINOR_UNITS, minor_units
from interfaces.web.host_coupons import terms_from_form
from interfaces.web.host_dashboard import day_range

TODAY = date(2027, 3, 1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)
texts = st.one_of(st.just(""), days, st.text(max_size=12))


@given(texts, texts, st.sampled_from([366, 5 * 366]))
def test_any_range_input_gives_a_bounded_range_or_an_error(frm: str, to: str, most: int) -> None:
    start, end, errors = day_range(frm, to, TODAY, most)
    assert start < end and (end - start).days <= most
    if errors:  # the default range is shown, with the reason
        assert (start, end) == (
            TODAY + timedelta(days=1) - timedelta(days=30),
            TODAY + timedelta(1),
        )
    elif frm and to:
        assert (start.isoformat(), end.isoformat()) == (frm, to)


FIELDS = ("code", "kind", "value", "min_subtotal", "currency", "valid_until",
          "max_redemptions", "per_user_limit", "scope", "listing_id")  # fmt: skip
NUMBERS = ["10", "0", "-5", "0.004", "1e400", "nan", "inf", "-inf", "1e9", "1e300"]
values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["percent", "fixed", "all", "listing", "first_booking", "EUR", "JPY",
                     "2027-01-01", str(uuid4()), *NUMBERS]),
)  # fmt: skip
numbers = st.one_of(st.sampled_from(NUMBERS), st.text(max_size=10))


@given(
    st.fixed_dictionaries(
        {"code": st.just("SPRING"), "kind": st.sampled_from(["percent", "fixed"]),
         "value": numbers, "min_subtotal": numbers},
        optional=dict.fromkeys(FIELDS[4:], values),
    )
)  # fmt: skip
def test_any_coupon_form_gives_terms_or_field_errors(form: dict[str, str]) -> None:
    owner = uuid4()
    code, terms, errors = terms_from_form(form, funded_by="owner", owner_id=owner)
    assert (terms is None) == bool(errors)
    if terms is not None:
        assert 3 <= len(code) <= 40 and terms.owner_id == owner and terms.funded_by == "owner"
        assert (terms.kind == "percent") == (1 <= terms.percent_bp <= 10_000)


@given(numbers, st.sampled_from(["EUR", "JPY"]))
def test_any_resolution_amount_is_minor_units_or_refused(text: str, currency: str) -> None:
    amount = minor_units(text, currency)
    assert amount is None or 0 <= amount <= MAX_MINOR_UNITS
