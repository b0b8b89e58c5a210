"""Payment endpoints: pay, the processor's webhooks, owners' payouts and onboarding, and the
simulated card network's dev endpoints (absent in production)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from domain import booking as b
from domain.errors import ConflictError, NotFoundError
from domain.order_charge import OrderCharge
from domain.payment import Payment
from domain.user import ADMIN
from infrastructure.simulated_gateway import SimulatedGateway
from infrastructure.stripe_events import InvalidSignature
from interfaces.http.booking_schemas import FailIn, PaymentPublic, SettleIn
from interfaces.http.deps import CommandDep, ContainerDep, PrincipalDep, anonymous_context
from interfaces.http.pagination import PageParamsDep, decode_cursor, encode_cursor
from interfaces.http.positions import min_position, set_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import Page, problem_responses
from projections.payments_reader import PaymentsReader

router = APIRouter(tags=["payments"])


class MoneyOut(BaseModel):
    amount: int
    currency: str


class PayoutPublic(BaseModel):
    booking_id: UUID
    payment_id: UUID | None
    booking_status: str
    payment_status: str = Field(description="none | requested | authorized | captured | failed")
    captured: MoneyOut
    refunded: MoneyOut
    owner_payout: MoneyOut = Field(description="The owner's share in the booking's quote.")
    deposit_status: str
    deposit_captured: MoneyOut
    payout_status: str = Field(description="none | scheduled | pending | sent | reversed")
    payout_at: datetime | None = Field(description="When the payout falls due (start + 24 h).")
    paid_out: MoneyOut
    paid_out_at: datetime | None


class PayoutAccountIn(BaseModel):
    refresh_url: str = Field("https://rentbook.dev/payouts/refresh", max_length=500)
    return_url: str = Field("https://rentbook.dev/payouts/done", max_length=500)


class PayoutAccountPublic(BaseModel):
    account_id: str
    url: str
    expires_at: datetime
    payouts_enabled: bool


class PaymentProblem(BaseModel):
    code: str = Field(examples=["deposit_declined"])
    detail: str


class PaymentStatusPublic(BaseModel):
    payment_id: UUID
    booking_id: UUID
    booking_status: str
    status: str = Field(description="The charge: requested | authorized | captured | failed")
    deposit_status: str = Field(
        description="none | declined | authorized | released | expired ('none': no hold yet)"
    )
    problem: PaymentProblem | None = Field(
        description="What stops the booking confirming, for the renter to act on."
    )


class WebhookAck(BaseModel):
    received: bool = True


@router.post("/bookings/{booking_id}/payment", response_model=PaymentPublic)
def pay_booking(booking_id: UUID, command: CommandDep, response: Response) -> PaymentPublic:
    """Creates (idempotently) the charge for the quote total, and the deposit hold when the
    listing has one. `client_secret` confirms the charge in the client; it is absent while
    the processor call is still queued (ask again). The booking becomes `confirmed` when the
    processor reports the charge captured."""
    with command.context():
        result = command.container.payments.start_payment(command.actor, booking_id, command.now)
    set_position(response, result["position"])
    return PaymentPublic(
        payment_id=result["payment_id"],
        client_secret=result["client_secret"],
        status=result["status"],
    )


@router.get(
    "/bookings/{booking_id}/payment",
    response_model=PaymentStatusPublic,
    dependencies=[Depends(min_position("payments"))],
    responses=problem_responses(401, 404),
)
def booking_payment(
    booking_id: UUID, principal: PrincipalDep, container: ContainerDep
) -> PaymentStatusPublic:
    """The booking's payment as the renter, the owner or an admin sees it. A booking with a
    deposit confirms only once the hold is on the renter's card: when the card for the
    hold was declined, `deposit_status` is `declined` and `problem` says so; the renter
    confirms the hold with another card (the deposit's client secret) while the booking
    is `pending_payment`; if it lapses first, the charge is refunded whole. 404 before the
    booking is paid, and for anyone else."""
    row = _reader(container).of_booking(booking_id)
    allowed = row is not None and (
        principal.user_id in (row["renter_id"], row["owner_id"]) or principal.has_role(ADMIN)
    )
    if row is None or row["payment_id"] is None or not allowed:
        raise NotFoundError("payment_not_found", f"no payment for booking {booking_id}")
    problem = None
    waiting = row["booking_status"] == b.PENDING_PAYMENT
    if waiting and row["deposit_status"] == "declined":
        problem = PaymentProblem(
            code="deposit_declined",
            detail="the card for the deposit hold was declined: confirm the hold with "
            "another card before the booking expires",
        )
    elif row["charge_status"] == "failed":
        problem = PaymentProblem(code="payment_failed", detail="the card was declined")
    return PaymentStatusPublic(
        payment_id=row["payment_id"],
        booking_id=booking_id,
        booking_status=row["booking_status"],
        status=row["charge_status"],
        deposit_status=row["deposit_status"] if row["deposit"] else "none",
        problem=problem,
    )


@router.post("/payments/webhooks/stripe", response_model=WebhookAck)
async def stripe_webhook(
    request: Request,
    container: ContainerDep,
    stripe_signature: Annotated[str, Header()] = "",
) -> WebhookAck:
    """The processor's signed webhook (`Stripe-Signature`). 400 when the signature does not
    verify (nothing is recorded); 200 for duplicates and for event types we ignore."""
    payload = await request.body()  # the raw bytes: the signature covers them exactly
    receiver = container.payments_wiring.webhooks if container.payments_wiring else None
    if receiver is None:
        raise ProblemError(404, "not_found", "no webhook receiver")
    from starlette.concurrency import run_in_threadpool  # the library is synchronous

    try:
        await run_in_threadpool(receiver, payload, stripe_signature)
    except InvalidSignature as error:
        raise ProblemError(400, "invalid_signature", str(error) or "bad signature") from None
    return WebhookAck()


def _reader(container: ContainerDep) -> PaymentsReader:
    return PaymentsReader(container.views, container.runner.tables("payments"))


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut(amount=int(amount), currency=currency)


@router.get(
    "/me/payouts",
    response_model=Page[PayoutPublic],
    dependencies=[Depends(min_position("payments"))],
)
def my_payouts(
    principal: PrincipalDep, container: ContainerDep, page: PageParamsDep
) -> Page[PayoutPublic]:
    """The caller's bookings as an owner that took money, newest payout time first, with
    what was captured, refunded and paid out, and when."""
    after = decode_cursor(page.cursor)
    position = None
    if after:
        try:
            position = (datetime.fromisoformat(after["t"]), UUID(after["b"]))
        except (KeyError, ValueError, TypeError):
            raise ProblemError(422, "bad_cursor", "the cursor is not one we gave") from None
    rows = _reader(container).payouts(principal.user_id, page.limit + 1, position)
    data = [
        PayoutPublic(
            booking_id=r["booking_id"],
            payment_id=r["payment_id"],
            booking_status=r["booking_status"],
            payment_status=r["charge_status"],
            captured=_money(r["captured"], r["currency"]),
            refunded=_money(r["refunded"], r["currency"]),
            owner_payout=_money(r["owner_payout"], r["currency"]),
            deposit_status=r["deposit_status"] if r["deposit"] else "none",
            deposit_captured=_money(r["deposit_captured"], r["currency"]),
            payout_status=r["payout_status"],
            payout_at=r["payout_at"],
            paid_out=_money(r["paid_out"], r["currency"]),
            paid_out_at=r["paid_out_at"],
        )
        for r in rows[: page.limit]
    ]
    next_cursor = None
    if len(rows) > page.limit:
        last = rows[page.limit - 1]
        next_cursor = encode_cursor(
            {"t": last["payout_at"].isoformat(), "b": str(last["booking_id"])}
        )
    return Page[PayoutPublic](data=data, next_cursor=next_cursor)


@router.post("/me/payout-account", response_model=PayoutAccountPublic)
def payout_account(
    body: PayoutAccountIn, command: CommandDep, response: Response
) -> PayoutAccountPublic:
    """The owner's onboarding link at the processor. Payouts start once the processor
    reports the account can take them."""
    user = command.container.identity.get_user(command.actor.id)
    with command.context():
        link = command.container.payments.payout_account_link(
            command.actor,
            str(user.email),
            refresh_url=body.refresh_url,
            return_url=body.return_url,
            at=command.now,
        )
    set_position(response, command.container.store.current_position())
    return PayoutAccountPublic(**link)


# -- the simulated card network ------------------------------------------------------------


def _dev_gateway(command: CommandDep) -> SimulatedGateway:
    settings = command.container.settings
    gateway = command.container.gateway
    if settings.environment == "production" or not isinstance(gateway, SimulatedGateway):
        raise ProblemError(404, "not_found", "no such endpoint")
    return gateway


def _ensure_intents(command: CommandDep, payment_id: UUID) -> list[UUID]:
    """With rq the charge and deposit jobs may not have run yet: run them here (same
    idempotency keys). Returns who holds the intents to settle: the payment; for an order,
    its one charge first, then its items (their deposit holds)."""
    payments = command.container.payments
    try:
        payment = command.container.store.load(payment_id, "payment")
    except NotFoundError:
        payment = None
    if not isinstance(payment, (Payment, OrderCharge)):
        raise NotFoundError("payment_not_found", f"payment {payment_id} not found")
    if isinstance(payment, OrderCharge):
        if payment.intent_id is None:
            payments.job_handlers.create_order_charge(str(payment.order_id))
        items = [payments.store.load(pid, "payment") for pid in payment.payment_ids]
        holders = [payment.id, *payment.payment_ids]
    else:
        items = [payment]
        order_charge = payment.order_charge_id
        holders = [payment_id] if order_charge is None else [order_charge, payment_id]
    for item in items:
        if item.charge["intent_id"] is None:
            payments.job_handlers.create_charge(str(item.booking_id))
        if item.deposit and item.deposit_hold["intent_id"] is None:
            payments.job_handlers.authorize_deposit(str(item.booking_id))
    return holders


def _settle(gateway: SimulatedGateway, holders: list[UUID], step: str | None, **kw: Any) -> None:
    """Settles `step` (every pending step when None) of whichever holder has it; 409
    `payment_settled` when none had anything pending."""
    done, errors = 0, []
    for holder in holders:
        try:
            if step is None:
                gateway.settle_pending(holder)
            else:
                gateway.settle(holder, step=step, **kw)
            done += 1
        except (ConflictError, NotFoundError) as error:
            errors.append(error)
    if not done and errors:  # settled already (409) before "not found" (404)
        raise next((e for e in errors if isinstance(e, ConflictError)), errors[0])


@router.post("/dev/payments/{payment_id}/succeed", response_model=PaymentPublic)
def simulate_success(
    payment_id: UUID,
    command: CommandDep,
    request: Request,
    response: Response,
    body: SettleIn | None = None,
) -> PaymentPublic:
    """Simulated gateway only: the renter's card goes through. Without a body (or without
    `step`) every step still waiting for a card is settled, the charge and the deposit
    hold; with `{"step": "charge"}` or `{"step": "deposit"}` only that one (a retry with
    another card after a decline, too). An order's `charge_id` settles its one charge and
    every item's deposit hold. 409 `payment_settled` when nothing is pending."""
    gateway = _dev_gateway(command)
    step = body.step if body is not None else None
    with anonymous_context(request):  # the processor acts, not the caller
        holders = _ensure_intents(command, payment_id)
        if step is None:
            _settle(gateway, holders, None)
        else:
            _settle(gateway, holders, step, succeed=True)
    set_position(response, command.container.store.current_position())
    return PaymentPublic(payment_id=payment_id, client_secret=None, status="succeeded")


@router.post("/dev/payments/{payment_id}/fail", response_model=PaymentPublic)
def simulate_failure(
    payment_id: UUID, body: FailIn, command: CommandDep, request: Request, response: Response
) -> PaymentPublic:
    """Simulated gateway only: the card network declines the charge, or with
    `{"step": "deposit"}` the deposit hold (the booking then waits for another card)."""
    gateway = _dev_gateway(command)
    with anonymous_context(request):  # the processor acts, not the caller
        holders = _ensure_intents(command, payment_id)
        _settle(gateway, holders, body.step, succeed=False, reason=body.reason)
    set_position(response, command.container.store.current_position())
    return PaymentPublic(payment_id=payment_id, client_secret=None, status="failed")
