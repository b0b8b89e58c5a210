"""Wires payments for the composition root: the gateway (Stripe or simulated), the job
queue (rq on Redis, else in-process), the webhook receiver both the HTTP endpoint and the
simulated gateway's deliveries use, and the payments scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy.engine import Engine

from application.bookings import Bookings
from application.jobs import JobQueue, RetryPolicy
from application.payment_gateway import PaymentGateway
from application.payments import Payments
from application.ports import Clock
from infrastructure.jobs_inprocess import InProcessJobQueue
from infrastructure.settings import Settings
from infrastructure.simulated_gateway import DEFAULT_WEBHOOK_SECRET, SimulatedGateway
from infrastructure.stripe_events import verify_and_parse
from projections.payments_reader import PaymentsReader
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


class WebhookReceiver:
    """Verifies a processor webhook and hands it to `Payments.handle_event`.
    Raises `InvalidSignature` (→ 400, nothing recorded); unknown types are ignored."""

    def __init__(self, payments: Payments, secret: str, now: Callable[[], datetime]) -> None:
        self.payments = payments
        self.secret = secret
        self.now = now

    def __call__(self, payload: bytes, signature: str) -> None:
        event = verify_and_parse(payload, signature, self.secret)
        if event is not None:
            self.payments.handle_event(event, self.now())


@dataclass
class PaymentsWiring:
    payments: Payments
    gateway: PaymentGateway
    jobs: JobQueue
    webhooks: WebhookReceiver

    def run_forever(self, clock: Clock, stop: threading.Event, interval: float = 5.0) -> None:
        """The payments scheduler: payouts that fell due, reconciliation of anything stuck."""
        while not stop.is_set():
            try:
                self.payments.run_due(clock.now())
            except Exception:
                log.exception("payments scheduler run failed")
            stop.wait(interval)

    def start(self, stop: threading.Event, clock: Clock, interval: float) -> threading.Thread:
        start_thread = getattr(self.jobs, "start_thread", None)  # rq's scheduler thread
        if start_thread is not None:
            start_thread()
        thread = threading.Thread(
            target=self.run_forever, args=(clock, stop, interval), name="payments", daemon=True
        )
        thread.start()
        return thread


def build_jobs(settings: Settings, client: redis.Redis | None) -> JobQueue:
    policy = RetryPolicy(max_retries=settings.job_max_retries, base_delay=settings.job_backoff)
    backend = settings.jobs_backend
    if backend == "rq" or (backend == "auto" and client is not None):
        assert client is not None, "rq jobs need RENTBOOK_REDIS_URL"
        from infrastructure.jobs_rq import RqJobQueue  # rq only where it is the backend

        return RqJobQueue(client, prefix=settings.redis_key_prefix, policy=policy)
    # The charge runs inline so the payment request can answer with its client secret;
    # everything else (refunds, payouts...) goes to the worker thread.
    return InProcessJobQueue(
        policy, inline={"create_charge", "create_order_charge", "authorize_deposit"}
    )


def build_gateway(settings: Settings, views: Engine, clock: Clock) -> PaymentGateway:
    if settings.payment_gateway == "stripe":
        from infrastructure.stripe_gateway import StripeGateway

        assert settings.stripe_secret_key, "RENTBOOK_STRIPE_SECRET_KEY is required for Stripe"
        return StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
    return SimulatedGateway(
        views,
        webhook_secret=settings.stripe_webhook_secret or DEFAULT_WEBHOOK_SECRET,
        auto_confirm=settings.simulated_auto_confirm,
    )  # real time: its webhooks are signed, and signatures expire after 5 minutes


def build_payments(
    settings: Settings,
    bookings: Bookings,
    views: Engine,
    runner: ProjectionRunner,
    clock: Clock,
    client: redis.Redis | None,
) -> PaymentsWiring:
    gateway = build_gateway(settings, views, clock)
    jobs = build_jobs(settings, client)
    payments = Payments(
        bookings,
        gateway,
        jobs,
        PaymentsReader(views, runner.tables("payments")),
        stuck_after=timedelta(minutes=settings.payments_stuck_minutes),
        clock=clock.now,
    )
    payments.observe(bookings)
    secret = settings.stripe_webhook_secret or DEFAULT_WEBHOOK_SECRET
    webhooks = WebhookReceiver(payments, secret, clock.now)
    if isinstance(gateway, SimulatedGateway):
        gateway.deliver_webhooks_to(webhooks)
    return PaymentsWiring(payments, gateway, jobs, webhooks)
