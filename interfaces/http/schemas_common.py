"""Schemas shared by every router: money, pages, problems, command acknowledgements."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.money import MAX_MINOR_UNITS, Money

T = TypeVar("T")


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("control characters are not allowed")
    return value


# A string without NUL and other control characters (PostgreSQL text refuses NUL).
SafeStr = Annotated[str, AfterValidator(_no_control_characters)]


class Schema(BaseModel):
    """Base of request bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class MoneyPublic(BaseModel):
    """An amount in integer minor units (cents) of an ISO 4217 currency."""

    amount: int = Field(examples=[12000])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyPublic:
        return cls(amount=money.amount, currency=money.currency)


class MoneyIn(Schema):
    """A non-negative amount in integer minor units."""

    amount: int = Field(ge=0, le=MAX_MINOR_UNITS, examples=[12000])
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", examples=["EUR"])


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    data: list[T]
    next_cursor: str | None = None


class Ack(BaseModel):
    """A command's acknowledgement when there is no richer resource to return."""

    id: UUID
    status: str


class ProblemFieldError(BaseModel):
    loc: list[str]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(examples=["https://rentbook.dev/problems/unavailable"])
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses=` entries documenting problem answers of a route."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }
