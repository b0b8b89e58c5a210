"""Notification test helpers: a world whose renter has an address, the notifications and
deadlines views on SQLite (or any engine), readers of their rows, and an SMTP server
(aiosmtpd) on a free port that keeps what arrived."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any
from uuid import UUID

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from application.context import Actor
from projections.deadlines import DeadlinesView
from projections.notifications import NotificationsView
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, make_world, verified_user


@dataclass
class NotifyWorld:
    world: World
    engine: Engine
    runner: ProjectionRunner

    @property
    def renter(self) -> Actor:
        return self.world.renter

    @property
    def owner(self) -> Actor:
        return self.world.owner

    def request(self, start: str = "2026-06-10", end: str = "2026-06-12") -> UUID:
        listing = self.world.active_listing(booking_mode="request")
        booking_id, _ = self.world.bookings.place(
            self.renter, listing, start=start, end=end, quantity=1, guests=1, at=NOW
        )
        return booking_id

    def instant(self, start: str = "2026-06-10", end: str = "2026-06-12") -> UUID:
        listing = self.world.active_listing()
        booking_id, _ = self.world.bookings.place(
            self.renter, listing, start=start, end=end, quantity=1, guests=1, at=NOW
        )
        return booking_id

    def confirm(self, booking_id: UUID, at: datetime = NOW + timedelta(minutes=5)) -> None:
        """As the capture of its charge would (the payment side is not under test here)."""
        booking = self.world.bookings.get(booking_id)
        booking.confirm(by=self.renter.id, at=at)
        self.world.store.record(booking)

    def rows(self, table: str = "notifications") -> list[dict[str, Any]]:
        self.runner.catch_up()
        t = self.runner.tables("notifications")[table]
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]

    def kinds(self, user: UUID) -> list[str]:
        rows = sorted(self.rows(), key=lambda r: (r["position"], r["kind"]))
        return [r["kind"] for r in rows if r["recipient_id"] == user]


def notify_world(engine: Engine, world: World | None = None) -> NotifyWorld:
    world = world or make_world()
    world.renter = Actor(verified_user(world.store, "Rita Renter"), "user")
    runner = ProjectionRunner(
        world.store, engine, [NotificationsView(), DeadlinesView()], batch_size=5
    )
    runner.setup()
    return NotifyWorld(world, engine, runner)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What a real SMTP server (aiosmtpd) received, parsed with the email package."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.inbox = Inbox()
        self.port = port or free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
