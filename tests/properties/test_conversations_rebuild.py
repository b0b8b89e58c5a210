"""For random messaging histories (inquiries, messages of both sides in inquiries and
booking conversations, read marks, bookings confirmed), the conversations and profiles views
built incrementally in small pages equal the same views rebuilt from scratch, and every
unread count is what the messages and read marks say."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.context import Actor
from application.conversations import Conversations
from domain.booking import Booking
from domain.conversation import booking_conversation_id, inquiry_id
from domain.errors import DomainError
from infrastructure.views_db import create_views_engine
from projections.conversations_queries import list_conversations
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, make_world

VIEWS = ("conversations", "profiles")
RENTERS = 2

renter_no = st.integers(0, RENTERS - 1)
listing_no = st.integers(0, 1)
commands = st.one_of(
    st.tuples(st.just("inquire"), renter_no, listing_no, st.sampled_from(["hi", "a@b.c"])),
    st.tuples(st.just("reply"), renter_no, listing_no),
    st.tuples(st.just("book"), renter_no, listing_no),
    st.tuples(st.just("write"), renter_no, st.booleans()),
    st.tuples(st.just("confirm"), renter_no),
    st.tuples(st.just("read"), renter_no, st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("tick"), st.integers(1, 3000)),
)


def snapshot(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    out = {}
    with engine.connect() as conn:
        for view in VIEWS:
            for logical, table in runner.tables(view).items():
                rows = conn.execute(select(table)).all()
                out[f"{view}.{logical}"] = sorted(repr(tuple(r)) for r in rows)
    return out


class Story:
    def __init__(self, world: World) -> None:
        self.world = world
        self.conversations = Conversations(world.store, world.bookings)
        self.listings = [world.active_listing() for _ in range(2)]
        self.renters = [world.renter, *(Actor(UUID(int=n + 1), "user") for n in range(1, RENTERS))]
        self.bookings: dict[int, UUID] = {}
        self.at = NOW
        self.nights = 0

    def run(self, command: tuple[Any, ...]) -> None:
        name, *args = command
        w, c = self.world, self.conversations
        if name == "tick":
            self.at += timedelta(seconds=args[0] * 60)
        elif name == "inquire":
            renter, listing, text = self.renters[args[0]], self.listings[args[1]], args[2]
            c.inquire(renter, listing, text, None, self.at)
        elif name == "reply":
            cid = inquiry_id(self.renters[args[0]].id, w.owner.id, self.listings[args[1]])
            c.post(w.owner, cid, "Yes", None, self.at)
        elif name == "book" and args[0] not in self.bookings:
            start = date(2026, 7, 1) + timedelta(days=3 * self.nights)
            self.nights += 1
            booking_id, _ = w.bookings.place(
                self.renters[args[0]],
                self.listings[args[1]],
                start=start.isoformat(),
                end=(start + timedelta(days=2)).isoformat(),
                quantity=1,
                guests=1,
                at=NOW,
            )
            self.bookings[args[0]] = booking_id
        elif name == "write" and args[0] in self.bookings:
            booking_id = self.bookings[args[0]]
            who = w.owner if args[1] else self.renters[args[0]]
            cid = booking_conversation_id(booking_id)
            c.post(who, cid, "call +351 912 345 678", None, self.at, booking_id=booking_id)
        elif name == "confirm" and args[0] in self.bookings:
            booking: Booking = w.bookings.get(self.bookings[args[0]])
            booking.confirm(w.admin.id, self.at)
            w.store.record(booking)
        elif name == "read" and args[0] in self.bookings:
            who = w.owner if args[1] else self.renters[args[0]]
            booking_id = self.bookings[args[0]]
            cid = booking_conversation_id(booking_id)
            c.mark_read(who, cid, args[2], self.at, booking_id=booking_id)


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=20))
def test_rebuilt_conversation_views_equal_incremental_views(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(steps, engine)
        finally:
            engine.dispose()


def check(steps: list[tuple[Any, ...]], engine: Engine) -> None:
    story = Story(make_world())
    runner = ProjectionRunner(story.world.store, engine, all_projections(), batch_size=3)
    runner.catch_up()
    for command in steps:
        with contextlib.suppress(DomainError):  # refused commands are part of the story
            story.run(command)
        runner.catch_up()

    incremental = snapshot(runner, engine)
    for name in VIEWS:
        runner.rebuild(name)
    assert snapshot(runner, engine) == incremental
    runner.rebuild_all()
    assert snapshot(runner, engine) == incremental
    assert_unread_counts_match_the_aggregates(story, runner, engine)


def assert_unread_counts_match_the_aggregates(
    story: Story, runner: ProjectionRunner, engine: Engine
) -> None:
    for user in [story.world.owner, *story.renters]:
        with engine.connect() as conn:
            listed, _ = list_conversations(
                conn, runner.tables("conversations"), user.id, limit=100, cursor=None
            )
        for row in listed:
            conversation = story.conversations.find(UUID(row["id"]))
            if conversation is None:  # a booking's conversation without messages yet
                assert (row["message_count"], row["unread_count"]) == (0, 0)
                continue
            mark = conversation.read_up_to.get(user.id, 0)
            events: list[Any] = list(story.world.store.events.get(conversation.id))
            received = [
                e for e in events if getattr(e, "recipient_id", None) == user.id and e.seq > mark
            ]
            assert row["unread_count"] == len(received)
            assert row["message_count"] == conversation.message_count
