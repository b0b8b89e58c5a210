"""Money as integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import RuleViolation


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
