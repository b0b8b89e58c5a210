"""Money as integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain.errors import RuleViolation

# ISO 4217 currencies whose minor unit is not a hundredth (yen have none, dinars a 1000th).
EXPONENTS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"),
        0,
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
# The largest amount a person may type or the API take: 100 billion in a 2-decimal
# currency, far beyond any rental, and well inside PostgreSQL's bigint.
MAX_MINOR_UNITS = 10**13
# Plain ASCII digits, at most 15 before the point: no signs, exponents, spaces or nan.
_DECIMAL = re.compile(r"([0-9]{1,15})(?:\.([0-9]+))?", re.ASCII)


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise RuleViolation("money_amount", "amount must be an integer of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise RuleViolation("money_currency", f"bad ISO 4217 currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise RuleViolation("currency_mismatch", f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: int) -> Money:
        return Money(self.amount * factor, self.currency)

    def share(self, basis_points: int) -> Money:
        """basis_points/10000 of this amount, rounded half up to a whole minor unit."""
        return Money(round_half_up(self.amount * basis_points, 10_000), self.currency)

    def as_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Money:
        return cls(int(data["amount"]), str(data["currency"]))


def round_half_up(num: int, den: int) -> int:
    """num/den rounded half away from zero, in integers only."""
    sign = -1 if (num < 0) != (den < 0) else 1
    q, r = divmod(abs(num), abs(den))
    return sign * (q + (1 if 2 * r >= abs(den) else 0))


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has: 2 unless ISO 4217 says otherwise."""
    return EXPONENTS.get(currency.upper(), 2)


def minor_units(text: str, currency: str) -> int | None:
    """An amount typed in major units ("80", "80.5", "80.50"; "1500" yen; "1.250" dinars)
    as minor units, exactly (decimal digits, never a float); None when it is not such an
    amount, has more decimals than the currency (12.345 EUR, 10.5 JPY) or is beyond
    MAX_MINOR_UNITS."""
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    places = exponent(currency)
    if len(fraction) > places:
        return None
    minor = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
    return minor if minor <= MAX_MINOR_UNITS else None


def major_units(minor: int, currency: str) -> str:
    """Minor units as a decimal string in the currency's own precision: 12345 EUR →
    "123.45", 1500 JPY → "1500", 1250 KWD → "1.250"."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(int(minor)), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"
