"""Payment endpoints, and the simulated card network's dev endpoints."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from interfaces.http.booking_schemas import FailIn, PaymentPublic
from interfaces.http.deps import CommandDep, anonymous_context
from interfaces.http.positions import set_position
from interfaces.http.problems import ProblemError

router = APIRouter(tags=["payments"])


@router.post("/bookings/{booking_id}/payment", response_model=PaymentPublic)
def pay_booking(booking_id: UUID, command: CommandDep, response: Response) -> PaymentPublic:
    """Creates (idempotently) the charge for the quote total. The booking becomes
    `confirmed` when the processor reports the charge captured."""
    with command.context():
        result = command.container.payments.start(command.actor, booking_id, command.now)
    set_position(response, result["position"])
    return PaymentPublic(
        payment_id=result["payment_id"],
        client_secret=result["client_secret"],
        status=result["status"],
    )


def _dev_gateway(command: CommandDep):  # type: ignore[no-untyped-def]
    settings = command.container.settings
    if settings.environment == "production" or settings.payment_gateway != "simulated":
        raise ProblemError(404, "not_found", "no such endpoint")
    return command.container.gateway


@router.post("/dev/payments/{payment_id}/succeed", response_model=PaymentPublic)
def simulate_success(
    payment_id: UUID, command: CommandDep, request: Request, response: Response
) -> PaymentPublic:
    """Simulated gateway only: the card network captures the charge."""
    gateway = _dev_gateway(command)
    with anonymous_context(request):  # the processor acts, not the caller
        gateway.settle(payment_id, succeed=True)
    set_position(response, command.container.store.current_position())
    return PaymentPublic(payment_id=payment_id, client_secret=None, status="succeeded")


@router.post("/dev/payments/{payment_id}/fail", response_model=PaymentPublic)
def simulate_failure(
    payment_id: UUID, body: FailIn, command: CommandDep, request: Request, response: Response
) -> PaymentPublic:
    """Simulated gateway only: the card network declines the charge."""
    gateway = _dev_gateway(command)
    with anonymous_context(request):  # the processor acts, not the caller
        gateway.settle(payment_id, succeed=False, reason=body.reason)
    set_position(response, command.container.store.current_position())
    return PaymentPublic(payment_id=payment_id, client_secret=None, status="failed")
