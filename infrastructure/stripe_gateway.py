"""The Stripe adapter of `PaymentGateway`: separate charges and transfers, with `StripeClient`.

Each mutating call sends the caller's idempotency key (Stripe replays the first answer for 24 h),
puts booking/payment ids in `metadata` (webhooks carry them back) and `transfer_group` = booking.
The SDK does not retry (`max_network_retries=0`): the job runner owns retries and backoff, with
the same key, so there is one retry policy, not two stacked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe

from application.payment_gateway import (
    AccountRequest,
    AccountResult,
    CaptureRequest,
    CaptureResult,
    ChargeRequest,
    ChargeResult,
    DepositRequest,
    GatewayDeclined,
    GatewayEvent,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    ObjectKind,
    OnboardingLink,
    OnboardingLinkRequest,
    PaymentGateway,
    ProcessorState,
    RefundRequest,
    RefundResult,
    ReleaseRequest,
    ReleaseResult,
    TransferRequest,
    TransferResult,
    TransferReversalRequest,
    TransferReversalResult,
)
from domain.money import Money
from infrastructure.stripe_events import state_of

# Events whose fee lives on the charge's balance transaction, which a webhook cannot expand.
_FEE_FROM_CHARGE = frozenset({"payment_intent.succeeded"})


class StripeGateway(PaymentGateway):
    def __init__(
        self,
        api_key: str,
        *,
        client: stripe.StripeClient | None = None,
        api_base: str | None = None,
        max_network_retries: int = 0,
    ) -> None:
        self.client = client or stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
        )
        self.v1 = self.client.v1

    # -- the renter's charge and deposit ---------------------------------------------------

    def create_charge(self, request: ChargeRequest) -> ChargeResult:
        params = self._intent_params(
            request.payment_id,
            request.booking_id,
            request.amount,
            "charge",
            request.capture_method,
            request.payment_method,
        )
        if request.description:
            params["description"] = request.description
        if request.order_id is not None:  # an order's one charge for the whole basket
            params["transfer_group"] = f"order:{request.order_id}"
            params["metadata"] = {
                "payment_id": str(request.payment_id),
                "order_id": str(request.order_id),
                "step": "charge",
            }
        intent = _call(
            lambda: self.v1.payment_intents.create(
                _params(params), _options(request.idempotency_key)
            )
        )
        return _charge_result(intent)

    def authorize_deposit(self, request: DepositRequest) -> ChargeResult:
        params = self._intent_params(
            request.payment_id,
            request.booking_id,
            request.amount,
            "deposit",
            "manual",
            request.payment_method,
        )
        params["description"] = f"Security deposit, booking {request.booking_id}"
        intent = _call(
            lambda: self.v1.payment_intents.create(
                _params(params), _options(request.idempotency_key)
            )
        )
        return _charge_result(intent)

    def capture(self, request: CaptureRequest) -> CaptureResult:
        params: dict[str, Any] = {}
        if request.amount is not None:
            params["amount_to_capture"] = request.amount.amount
        intent = _call(
            lambda: self.v1.payment_intents.capture(
                request.intent_id, _params(params), _options(request.idempotency_key)
            )
        )
        return CaptureResult(
            intent_id=intent["id"],
            status=intent["status"],
            amount_captured=Money(int(intent["amount_received"]), intent["currency"].upper()),
            latest_charge=_id(intent.get("latest_charge")),
        )

    def capture_deposit(self, request: CaptureRequest) -> CaptureResult:
        return self.capture(request)

    def release_deposit(self, request: ReleaseRequest) -> ReleaseResult:
        intent = _call(
            lambda: self.v1.payment_intents.cancel(
                request.intent_id,
                _params({"cancellation_reason": "abandoned"}),
                _options(request.idempotency_key),
            )
        )
        return ReleaseResult(intent["id"], intent["status"])

    def refund(self, request: RefundRequest) -> RefundResult:
        target = "payment_intent" if request.charge_id.startswith("pi_") else "charge"
        params: dict[str, Any] = {
            target: request.charge_id,
            "amount": request.amount.amount,
            "metadata": _metadata(request.payment_id, request.booking_id, _step(request)),
        }
        if request.reason:
            params["reason"] = request.reason
        refund = _call(
            lambda: self.v1.refunds.create(_params(params), _options(request.idempotency_key))
        )
        return RefundResult(refund["id"], refund["status"])

    # -- the owner's side --------------------------------------------------------------------

    def transfer_to_owner(self, request: TransferRequest) -> TransferResult:
        params = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "destination": request.destination,
            "source_transaction": request.source_transaction,
            "transfer_group": str(request.booking_id),
            "metadata": _metadata(request.payment_id, request.booking_id, _step(request)),
        }
        transfer = _call(
            lambda: self.v1.transfers.create(_params(params), _options(request.idempotency_key))
        )
        return TransferResult(
            transfer["id"],
            Money(int(transfer["amount"]), transfer["currency"].upper()),
            _id(transfer["destination"]) or request.destination,
        )

    def reverse_transfer(self, request: TransferReversalRequest) -> TransferReversalResult:
        params = {
            "amount": request.amount.amount,
            "metadata": _metadata(request.payment_id, request.booking_id, _step(request)),
        }
        reversal = _call(
            lambda: self.v1.transfers.reversals.create(
                request.transfer_id, _params(params), _options(request.idempotency_key)
            )
        )
        return TransferReversalResult(
            reversal["id"],
            _id(reversal["transfer"]) or request.transfer_id,
            Money(int(reversal["amount"]), reversal["currency"].upper()),
        )

    def create_connected_account(self, request: AccountRequest) -> AccountResult:
        params = {
            "type": "express",
            "country": request.country,
            "email": request.email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"owner_id": str(request.owner_id)},
        }
        account = _call(
            lambda: self.v1.accounts.create(_params(params), _options(request.idempotency_key))
        )
        return AccountResult(
            account["id"], bool(account["charges_enabled"]), bool(account["payouts_enabled"])
        )

    def create_onboarding_link(self, request: OnboardingLinkRequest) -> OnboardingLink:
        params = {
            "account": request.account_id,
            "refresh_url": request.refresh_url,
            "return_url": request.return_url,
            "type": "account_onboarding",
        }
        link = _call(
            lambda: self.v1.account_links.create(_params(params), _options(request.idempotency_key))
        )
        return OnboardingLink(link["url"], datetime.fromtimestamp(int(link["expires_at"]), UTC))

    # -- reconciliation ----------------------------------------------------------------------

    def retrieve(self, kind: ObjectKind, object_id: str) -> ProcessorState:
        services: dict[str, Callable[[], Any]] = {
            "payment_intent": lambda: self.v1.payment_intents.retrieve(object_id),
            "charge": lambda: self.v1.charges.retrieve(object_id),
            "refund": lambda: self.v1.refunds.retrieve(object_id),
            "transfer": lambda: self.v1.transfers.retrieve(object_id),
            "account": lambda: self.v1.accounts.retrieve(object_id),
        }
        return state_of(kind, _call(services[kind]))

    def complete(self, event: GatewayEvent) -> GatewayEvent:
        """Stripe cannot expand inside a webhook: read the charge's balance transaction."""
        if event.fee is not None or event.type not in _FEE_FROM_CHARGE or not event.charge_id:
            return event
        charge_id = event.charge_id
        charge = _call(
            lambda: self.v1.charges.retrieve(
                charge_id, _params({"expand": ["balance_transaction"]})
            )
        )
        fee = _fee(charge.get("balance_transaction"))
        if fee is None:
            return event
        return replace(event, fee=fee)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _intent_params(
        payment_id: UUID,
        booking_id: UUID,
        amount: Money,
        step: str,
        capture_method: str,
        payment_method: str | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "capture_method": capture_method,
            "transfer_group": str(booking_id),
            "metadata": _metadata(payment_id, booking_id, step),
        }
        if payment_method:
            params["payment_method"] = payment_method
            params["confirm"] = True
        return params


def _call(request: Callable[[], Any]) -> dict[str, Any]:
    """Stripe's errors, translated to the port's: retryable or not; the answer as plain JSON."""
    try:
        return dict(request().to_dict())
    except stripe.CardError as error:
        raise GatewayDeclined(error.code or "card_declined", str(error.user_message)) from None
    except stripe.APIConnectionError as error:  # includes timeouts: the work may be done
        raise GatewayTimeout("processor_unreachable", str(error.user_message)) from None
    except (stripe.APIError, stripe.RateLimitError) as error:
        raise GatewayUnavailable("processor_unavailable", str(error.user_message)) from None
    except stripe.StripeError as error:
        if error.http_status is not None and error.http_status >= 500:
            raise GatewayUnavailable("processor_unavailable", str(error.user_message)) from None
        raise GatewayRejected(error.code or "invalid_request", str(error.user_message)) from None


def _options(key: str) -> Any:
    return {"idempotency_key": key}


def _params(params: dict[str, Any]) -> Any:
    return params  # the SDK's TypedDicts, built dynamically


def _metadata(payment_id: UUID, booking_id: UUID, step: str) -> dict[str, str]:
    return {"payment_id": str(payment_id), "booking_id": str(booking_id), "step": step}


def _step(request: Any) -> str:
    """The step is the key's last part (`rentbook:{booking}:{step}`)."""
    return str(request.idempotency_key).rsplit(":", 1)[-1]


def _charge_result(intent: Any) -> ChargeResult:
    return ChargeResult(
        charge_id=intent["id"],
        status=intent["status"],
        client_secret=intent.get("client_secret"),
        latest_charge=_id(intent.get("latest_charge")),
    )


def _id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value["id"])


def _fee(balance_transaction: Any) -> Money | None:
    if balance_transaction is None or isinstance(balance_transaction, str):
        return None
    return Money(int(balance_transaction["fee"]), str(balance_transaction["currency"]).upper())
