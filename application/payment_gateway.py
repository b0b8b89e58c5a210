"""The PaymentGateway port: every call carries an idempotency key derived from booking and step.

Calls return the processor ids they got (record them before anything retries); outcomes
arrive asynchronously as `GatewayEvent`s (processor webhooks, or the simulated gateway's own
signed webhooks), never as the return value of the call that asked for them.

The money model is Stripe's "separate charges and transfers": the renter's charge and the
deposit hold are PaymentIntents on the platform with `transfer_group` = booking id (an order's
one charge: the order id, `order:<id>`); the owner is
paid by a Transfer to their connected account with `source_transaction` = the charge.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.money import Money

PAYMENT_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/payment")


def payment_id_for(booking_id: UUID) -> UUID:
    return uuid5(PAYMENT_NS, str(booking_id))


def idempotency_key(booking_id: UUID, step: str) -> str:
    """`step` names one money movement of the booking: "charge", "deposit", "capture-deposit",
    "refund-1", "payout", "reverse-payout-1"... The same step must always mean the same request."""
    return f"rentbook:{booking_id}:{step}"


# -- errors: what a caller (a retrying job) needs to tell apart ---------------------------


class GatewayError(Exception):
    """The processor call did not give an answer we can act on."""

    retryable = False

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code


class GatewayTimeout(GatewayError):
    """No answer: the work may or may not have been done. Retry with the same key."""

    retryable = True


class GatewayUnavailable(GatewayError):
    """5xx, connection refused, rate limited, or a lost reply. Retry with the same key."""

    retryable = True


class GatewayDeclined(GatewayError):
    """The card was declined; retrying the same request will not help."""


class GatewayRejected(GatewayError):
    """The request is invalid in the processor's state (over-refund, capture of a released
    hold, same idempotency key with different parameters...). A bug or a race: do not retry."""


# -- requests and results ------------------------------------------------------------------

CaptureMethod = Literal["automatic", "manual"]


@dataclass(frozen=True)
class ChargeRequest:
    """A booking's charge, or an order's ONE charge for its whole basket: then `order_id` is
    set, `booking_id` is the order id too and `payment_id` the `OrderCharge` id
    (domain/order_charge.py); the processor's events come back with them in metadata."""

    payment_id: UUID
    booking_id: UUID
    amount: Money
    idempotency_key: str
    description: str = ""
    capture_method: CaptureMethod = "automatic"
    payment_method: str | None = None  # given: confirm now (server side); else the client does
    order_id: UUID | None = None


@dataclass(frozen=True)
class ChargeResult:
    """`charge_id` is the PaymentIntent id; the card charge (`ch_...`, needed as a transfer's
    `source_transaction`) arrives as `GatewayEvent.charge_id` on `payment_intent.succeeded`."""

    charge_id: str
    status: str  # the PaymentIntent status: requires_payment_method | requires_confirmation |
    # requires_action | processing | requires_capture | succeeded | canceled
    client_secret: str | None = None
    latest_charge: str | None = None

    @property
    def intent_id(self) -> str:
        return self.charge_id


@dataclass(frozen=True)
class DepositRequest:
    """The deposit is its own manual-capture PaymentIntent: authorised now, captured (in part)
    for damage or released (cancelled) when the inspection window closes."""

    payment_id: UUID
    booking_id: UUID
    amount: Money
    idempotency_key: str
    payment_method: str | None = None


@dataclass(frozen=True)
class CaptureRequest:
    """Captures a manual-capture intent; `amount` below the authorisation releases the rest
    (Stripe releases the remainder; a captured intent cannot be released afterwards)."""

    payment_id: UUID
    booking_id: UUID
    intent_id: str
    idempotency_key: str
    amount: Money | None = None  # None: everything authorised


@dataclass(frozen=True)
class CaptureResult:
    intent_id: str
    status: str
    amount_captured: Money
    latest_charge: str | None = None


@dataclass(frozen=True)
class ReleaseRequest:
    payment_id: UUID
    booking_id: UUID
    intent_id: str
    idempotency_key: str


@dataclass(frozen=True)
class ReleaseResult:
    intent_id: str
    status: str  # canceled


@dataclass(frozen=True)
class RefundRequest:
    """`charge_id`: the PaymentIntent id (`pi_...`) or the charge id (`ch_...`)."""

    payment_id: UUID
    booking_id: UUID
    charge_id: str
    amount: Money
    idempotency_key: str
    reason: str = ""  # duplicate | fraudulent | requested_by_customer | "" (none)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # pending | requires_action | succeeded | failed | canceled


@dataclass(frozen=True)
class TransferRequest:
    payment_id: UUID
    booking_id: UUID
    amount: Money
    destination: str  # the owner's connected account, acct_...
    source_transaction: str  # the renter's charge, ch_...
    idempotency_key: str


@dataclass(frozen=True)
class TransferResult:
    transfer_id: str
    amount: Money
    destination: str


@dataclass(frozen=True)
class TransferReversalRequest:
    payment_id: UUID
    booking_id: UUID
    transfer_id: str
    amount: Money
    idempotency_key: str


@dataclass(frozen=True)
class TransferReversalResult:
    reversal_id: str
    transfer_id: str
    amount: Money


@dataclass(frozen=True)
class AccountRequest:
    owner_id: UUID
    email: str
    idempotency_key: str
    country: str = "DE"


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    charges_enabled: bool
    payouts_enabled: bool


@dataclass(frozen=True)
class OnboardingLinkRequest:
    account_id: str
    refresh_url: str
    return_url: str
    idempotency_key: str


@dataclass(frozen=True)
class OnboardingLink:
    url: str
    expires_at: datetime


ObjectKind = Literal["payment_intent", "charge", "refund", "transfer", "account"]


@dataclass(frozen=True)
class ProcessorState:
    """What the processor says now, for reconciliation of anything stuck."""

    kind: ObjectKind
    id: str
    status: str  # the object's own status; transfers: paid | reversed | partially_reversed;
    # accounts: enabled | restricted
    amount: Money | None = None
    amount_received: Money | None = None  # payment intents: captured; charges: captured
    amount_capturable: Money | None = None
    amount_refunded: Money | None = None  # charges: refunded; transfers: reversed
    charge_id: str | None = None  # the intent's latest charge, the refund's charge
    intent_id: str | None = None
    payment_id: UUID | None = None  # from metadata
    booking_id: UUID | None = None
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None


# -- asynchronous outcomes -----------------------------------------------------------------


@dataclass(frozen=True)
class GatewayEvent:
    """One processor event, normalised. `type` is the processor's event type (Stripe's names:
    `payment_intent.succeeded`, `charge.refunded`, ...); see `infrastructure/stripe_events.py`
    for what each field holds per type. Duplicated deliveries carry the same `id`."""

    id: str  # processor event id: duplicates are no-ops
    type: str
    payment_id: UUID | None  # from metadata; None when the object carries none (disputes)
    booking_id: UUID | None
    charge_id: str | None  # the card charge, ch_... (for intents: latest_charge)
    amount: Money | None
    reason: str = ""  # decline code, cancellation/failure reason, dispute reason
    object_id: str = ""  # the event's object: pi_, ch_, re_, dp_, tr_, acct_
    intent_id: str | None = None
    step: str = ""  # metadata: charge | deposit (intents), refund/transfer step
    status: str = ""  # the object's status (dispute: won | lost | needs_response ...)
    fee: Money | None = None  # processor-reported fee when the event carries it
    refund_id: str | None = None
    dispute_id: str | None = None
    transfer_id: str | None = None
    reversal_id: str | None = None
    account_id: str | None = None  # transfers: destination; account.updated: the account
    owner_id: UUID | None = None  # account metadata
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None
    created: datetime | None = None
    livemode: bool = False


GatewayListener = Callable[[GatewayEvent], None]
WebhookDelivery = Callable[[bytes, str], None]  # (raw body, Stripe-Signature header)


class PaymentGateway(ABC):
    """The processor, as the application needs it. Every mutating call is idempotent by its
    key: the same key returns the same result, even when the first reply was lost."""

    @abstractmethod
    def create_charge(self, request: ChargeRequest) -> ChargeResult:
        """A PaymentIntent for the booking's total (automatic capture unless asked)."""

    @abstractmethod
    def capture(self, request: CaptureRequest) -> CaptureResult:
        """Captures a manual-capture charge."""

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult: ...

    @abstractmethod
    def authorize_deposit(self, request: DepositRequest) -> ChargeResult: ...

    @abstractmethod
    def capture_deposit(self, request: CaptureRequest) -> CaptureResult:
        """Captures `amount` (≤ authorised) of the deposit; the rest is released."""

    @abstractmethod
    def release_deposit(self, request: ReleaseRequest) -> ReleaseResult:
        """Cancels the deposit's intent: the hold disappears from the renter's card."""

    @abstractmethod
    def transfer_to_owner(self, request: TransferRequest) -> TransferResult: ...

    @abstractmethod
    def reverse_transfer(self, request: TransferReversalRequest) -> TransferReversalResult: ...

    @abstractmethod
    def create_connected_account(self, request: AccountRequest) -> AccountResult: ...

    @abstractmethod
    def create_onboarding_link(self, request: OnboardingLinkRequest) -> OnboardingLink: ...

    @abstractmethod
    def retrieve(self, kind: ObjectKind, object_id: str) -> ProcessorState:
        """The processor's current view of one object (no idempotency key: a read)."""

    def complete(self, event: GatewayEvent) -> GatewayEvent:
        """Fills what a webhook cannot carry (the processor fee of a charge) by reading it
        from the processor; run it outside any transaction, before handling the event."""
        return event
