"""Erasing a user repairs only the rows their sealed fields fed (`projections/erasure_repair.py`),
and the views then equal a rebuild of every personal view from position 0: over random
multi-user histories (profiles edited, bio emptied, inquiries answered, bookings with and
without a message, condition reports, reviews of both sides, the owner's reply, disputes),
any of the users or the listing's owner erased, on SQLite and PostgreSQL. A repair that
fails midway leaves the views as they were, and the erasure run again repairs them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from application.context import Actor
from domain.conversation import booking_conversation_id
from domain.review import RENTER, review_id_for
from infrastructure.bootstrap import Container, build_container
from infrastructure.personal_keys import personal_views
from infrastructure.settings import Settings
from projections.registry import all_projections
from tests.builders import NOW, listing_spec
from tests.erasure_builders import History, Person
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2

texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)


@dataclass(frozen=True)
class Acts:
    """What one user of a history does (the owner answers and replies to them)."""

    bio: bool
    empty_bio: bool
    inquire: bool
    answered: bool
    request: bool  # a request to book, left pending: the owner is notified of its message
    quiet_booking: bool
    book: bool
    review: bool
    dispute: bool


acts = st.builds(Acts, *[st.booleans()] * 9)


def make_container(settings_: Settings) -> Iterator[Container]:
    made = build_container(
        settings_, clock=FakeClock(NOW), mailer=CapturingMailer(), **CHEAP_ARGON2
    )
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def sqlite_container(sqlite_settings: Settings) -> Iterator[Container]:
    yield from make_container(sqlite_settings)


@pytest.fixture
def pg_container(pg_settings: Settings) -> Iterator[Container]:
    yield from make_container(pg_settings)


def request_listing(history: History) -> uuid.UUID:
    """The history's request-to-book listing (made on first use)."""
    found: uuid.UUID | None = getattr(history, "request_listing", None)
    if found is None:
        owner = Actor(history.owner.id, "user")
        listings = history.c.listings
        found, _ = listings.create(owner, listing_spec(booking_mode="request"), NOW)
        listings.submit(owner, found, NOW)
        listings.approve(history.admin, found, NOW)
        history.request_listing = found  # type: ignore[attr-defined]
    return found


def act(history: History, n: int, todo: Acts, text: str) -> Person:
    c = history.c
    person = history._user(n, [])
    me, owner = Actor(person.id, "user"), Actor(history.owner.id, "user")
    if todo.bio:
        c.profiles.edit(person.id, bio=history.word(n, "bio", text), at=NOW)
    if todo.empty_bio:
        c.profiles.edit(person.id, name=history.word(n, "nm2", text), bio="", at=NOW)
    if todo.inquire:
        cid, *_ = c.conversations.inquire(
            me, history.listing_id, history.word(n, "ask", text), None, NOW
        )
        if todo.answered:
            c.conversations.post(owner, cid, history.word(99, f"an{n}", text), None, NOW)
    if todo.quiet_booking:
        history._stay(me, "", None)  # no message: erased, it reads as a message
    if todo.request:
        message = history.word(n, "req", text) if todo.answered else ""
        start = (NOW + timedelta(days=200 + 3 * n)).date()
        c.bookings.place(
            me, request_listing(history), start=start.isoformat(),
            end=(start + timedelta(days=2)).isoformat(), quantity=1, guests=1,
            message=message, at=NOW,
        )  # fmt: skip
    if not (todo.book or todo.review or todo.dispute):
        return person
    returned = todo.review or todo.dispute
    note = history.word(n, "note", text) if returned else None
    booking_id, ended_at = history._stay(me, history.word(n, "msg", text), note)
    if todo.answered:
        cid = booking_conversation_id(booking_id)
        reply = history.word(99, f"bk{n}", text)
        c.conversations.post(owner, cid, reply, None, NOW, booking_id=booking_id)
    if todo.review:
        comment = history.word(n, "rev", text)
        c.reviews.submit(
            me, booking_id, rating=4, comment=comment, category_ratings=None, at=ended_at
        )
        if todo.answered:  # the owner's review publishes both; then the owner replies
            theirs = history.word(99, f"rv{n}", text)
            c.reviews.submit(
                owner, booking_id, rating=5, comment=theirs, category_ratings=None, at=ended_at
            )
            c.reviews.reply(
                owner, review_id_for(booking_id, RENTER), history.word(99, f"rp{n}", text), ended_at
            )
    if todo.dispute:
        dispute_id, _ = c.disputes.open(
            me, booking_id, kind="damage", description=history.word(n, "dsp", text),
            claimed_amount=None, evidence=[], at=ended_at,
        )  # fmt: skip
        c.disputes.respond(owner, dispute_id, history.word(99, f"re{n}", text), [], ended_at)
    return person


def personal_rows(container: Container) -> dict[str, list[str]]:
    """Every row of every personal view's tables, as sorted text."""
    runner = container.runner
    out: dict[str, list[str]] = {}
    with container.views.connect() as conn:
        for name in personal_views():
            for logical, table in runner.tables(name).items():
                rows = conn.execute(select(table)).all()
                out[f"{name}.{logical}"] = sorted(repr(tuple(r)) for r in rows)
    return out


class Rebuilds:
    """Counts the full rebuilds the runner is asked for (the repair must need none)."""

    def __init__(self, container: Container) -> None:
        self.count = 0
        runner = container.runner
        original = runner.rebuild_all

        def counted(*args: Any, **kwargs: Any) -> int:
            self.count += 1
            return original(*args, **kwargs)

        runner.rebuild_all = counted  # type: ignore[method-assign]


def check_repair_equals_rebuild(
    container: Container, people: list[tuple[Acts, str]], victim_index: int
) -> None:
    history = History(container, uuid.uuid4().hex[:8])
    persons = [act(history, n, todo, text) for n, (todo, text) in enumerate(people)]
    victims = [*persons, history.owner]
    victim = victims[victim_index % len(victims)]
    container.runner.catch_up()
    rebuilds = Rebuilds(container)
    container.erasure.erase_by_admin(victim.id, by_admin=history.admin.id, at=NOW)
    assert rebuilds.count == 0
    container.runner.catch_up()
    repaired = personal_rows(container)
    container.runner.rebuild_all(personal_views())
    rebuilt = personal_rows(container)
    for name in rebuilt:
        assert repaired[name] == rebuilt[name], name


PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PEOPLE = st.lists(st.tuples(acts, texts), min_size=1, max_size=3)


@PROPERTY
@given(people=PEOPLE, victim_index=st.integers(min_value=0, max_value=3))
def test_a_targeted_repair_equals_a_rebuild_of_every_personal_view_sqlite(
    sqlite_container: Container, people: list[tuple[Acts, str]], victim_index: int
) -> None:
    check_repair_equals_rebuild(sqlite_container, people, victim_index)


@PROPERTY
@given(people=PEOPLE, victim_index=st.integers(min_value=0, max_value=3))
def test_a_targeted_repair_equals_a_rebuild_of_every_personal_view_postgres(
    pg_container: Container, people: list[tuple[Acts, str]], victim_index: int
) -> None:
    check_repair_equals_rebuild(pg_container, people, victim_index)


def test_a_repair_that_failed_midway_changes_nothing_and_running_the_erasure_again_repairs(
    sqlite_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = sqlite_container
    history = History(c, "c0ffee01")
    person = act(history, 0, Acts(*[True] * 9), "words")
    c.runner.catch_up()
    last = [v for v in all_projections() if v.name in personal_views()][-1]

    def crash(*_: object) -> bool:
        raise RuntimeError("the process died mid-repair")

    monkeypatch.setattr(type(last), "repair_erasure", crash)  # the others' repairs ran first
    with pytest.raises(RuntimeError):
        c.erasure.erase_by_admin(person.id, by_admin=history.admin.id, at=NOW)
    seen = repr(personal_rows(c))
    assert all(history.word(0, w, "words") in seen for w in ("ask", "note", "msg", "rev", "req"))
    monkeypatch.undo()

    c.erasure.erase_by_admin(person.id, by_admin=history.admin.id, at=NOW)
    c.runner.catch_up()
    repaired = personal_rows(c)
    assert not any(
        history.word(0, w, "words") in repr(repaired) for w in ("ask", "note", "msg", "rev", "req")
    )
    c.runner.rebuild_all(personal_views())
    assert repaired == personal_rows(c)
