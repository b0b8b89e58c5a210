"""Condition-report notes are their author's personal data: sealed in the stored
CheckedIn / CheckedOut events with the author's key, read back while it lives, and read as
erased (views, exports, time travel) once that author is erased; item names, statuses and
the other party's notes stay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.context import Actor
from application.store import EventStore
from domain.booking import Booking
from domain.personal_data import ERASED
from infrastructure.bootstrap import Container, build_container
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from interfaces.http.personal_data import export_user
from tests.application.test_personal_data import sqlite_env
from tests.builders import NOW
from tests.erasure_builders import History, Plan, report, stored_text, view_text
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, PASSWORD
from tests.master_key import MASTER

RETURNED_STAY = Plan(bio=False, inquire=False, book=True, review=True, dispute=False)


@pytest.fixture
def container(sqlite_settings: Settings) -> Iterator[Container]:
    made = build_container(
        sqlite_settings, clock=FakeClock(NOW), mailer=CapturingMailer(), **CHEAP_ARGON2
    )
    try:
        yield made
    finally:
        made.close()


def test_notes_are_sealed_and_erased_with_their_author_only(container: Container) -> None:
    history = History(container, uuid.uuid4().hex[:8])
    renter = history.person(1, RETURNED_STAY, "abc")
    renter_note = next(s for s in renter.secrets if "note~" in s)
    (booking_id,) = _bookings(container)
    booking = container.bookings.get(booking_id)
    owner_note = f"~{history.tag}ownernote~"
    owner = Actor(history.owner.id, "user")
    item = {"name": "Balcony", "status": "damaged", "note": owner_note, "photo_ids": []}
    assert booking.returned_at is not None
    container.stays.check_out(owner, booking_id, [item], booking.returned_at + timedelta(hours=1))

    stored = stored_text(container.store)
    assert renter_note not in stored and owner_note not in stored  # sealed
    container.runner.catch_up()
    seen = view_text(container.views)
    assert renter_note in seen and owner_note in seen  # read back while the keys live
    assert renter_note in export_user(container, renter.id).model_dump_json()

    container.erasure.erase_self(renter.id, PASSWORD, at=NOW)
    container.runner.catch_up()

    after = container.bookings.get(booking_id)  # the aggregate, replayed
    assert after.check_ins["renter"]["report"]["items"][0] == {
        "name": "Front door",
        "status": "ok",
        "note": ERASED,
        "photo_ids": [],
    }
    assert after.check_outs["owner"]["report"]["items"][0]["note"] == owner_note
    seen = view_text(container.views)
    assert renter_note not in seen and ERASED in seen and owner_note in seen
    assert renter_note not in export_user(container, history.owner.id).model_dump_json()
    for version in range(1, after.version + 1):  # time travel
        assert renter_note not in repr(
            vars(container.store.repository.get(booking_id, version=version))
        )
    # Not a stored byte changed (the hash chain holds): the erasure only appended its events.
    assert stored_text(container.store).startswith(stored)


def _bookings(container: Container) -> list[uuid.UUID]:
    notes = container.store.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    return [n.originator_id for n in notes if n.topic == "domain.booking:Booking.Placed"]


def test_sealing_leaves_the_event_alone_and_old_plaintext_notes_read_as_erased(
    tmp_path: Path,
) -> None:
    keyring = SqlKeyRing(create_views_engine(f"sqlite:///{tmp_path / 'views.db'}"), MASTER)
    author = uuid.uuid4()
    event: Any = object.__new__(Booking.CheckedIn)
    object.__setattr__(
        event,
        "__dict__",
        {
            "originator_id": uuid.uuid4(),
            "originator_version": 5,
            "timestamp": NOW,
            "by": author,
            "role": "renter",
            "report": report("Scratch on the door", name="Door"),
            "at": NOW,
        },
    )
    mapper = EventStore(sqlite_env(tmp_path), keyring=keyring).mapper
    sealed = mapper.to_stored_event(event)
    assert b"Scratch" not in sealed.state and b"Door" in sealed.state
    assert event.report == report("Scratch on the door", name="Door")  # the aggregate's too
    assert mapper.to_domain_event(sealed).report == event.report
    legacy = EventStore(sqlite_env(tmp_path)).mapper.to_stored_event(event)  # older code
    assert b"Scratch" in legacy.state
    assert mapper.to_domain_event(legacy).report == event.report

    assert keyring.destroy(author)
    for stored in (sealed, legacy):
        assert mapper.to_domain_event(stored).report == report(ERASED, name="Door")
