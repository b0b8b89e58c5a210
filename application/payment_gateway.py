"""The PaymentGateway port: every call carries an idempotency key derived from booking and step.

Outcomes arrive asynchronously as `GatewayEvent`s (processor webhooks, or the simulated
gateway's own callbacks), never as the return value of the call that asked for them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.money import Money

PAYMENT_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/payment")


def payment_id_for(booking_id: UUID) -> UUID:
    return uuid5(PAYMENT_NS, str(booking_id))


def idempotency_key(booking_id: UUID, step: str) -> str:
    return f"rentbook:{booking_id}:{step}"


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: UUID
    booking_id: UUID
    amount: Money
    idempotency_key: str
    description: str = ""


@dataclass(frozen=True)
class ChargeResult:
    charge_id: str
    status: str  # requires_confirmation | processing | succeeded | failed
    client_secret: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    payment_id: UUID
    booking_id: UUID
    charge_id: str
    amount: Money
    idempotency_key: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str


@dataclass(frozen=True)
class GatewayEvent:
    id: str  # processor event id: duplicates are no-ops
    type: str  # charge.succeeded | charge.failed | refund.succeeded
    payment_id: UUID
    booking_id: UUID
    charge_id: str
    amount: Money
    reason: str = ""


GatewayListener = Callable[[GatewayEvent], None]


class PaymentGateway(ABC):
    """Issue #3 adds deposits, captures and transfers to this port; the shape stays."""

    @abstractmethod
    def create_charge(self, request: ChargeRequest) -> ChargeResult: ...

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult: ...

    @abstractmethod
    def subscribe(self, listener: GatewayListener) -> None:
        """Registers who hears the asynchronous outcomes."""
