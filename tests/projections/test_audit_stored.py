"""The audit view reads stored events without decoding them, and writes the rows it wrote
from decoded events (SQLite store with sealed personal fields, SQLite views)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification
from sqlalchemy import Engine, select

from application.context import Actor, command_context
from application.store import EventStore
from domain.personal_data import USER_ERASED_TOPIC
from infrastructure.views_db import create_views_engine
from projections import light
from projections.audit import AuditView, audit_row, stored_audit_row
from projections.bookings import BookingsView
from projections.event_log import decode_page
from projections.runner import ProjectionRunner
from projections.stored import plain_json, to_decode, upcasts
from tests.builders import NOW, make_world, memory_store, verified_user


class DecodedAuditView(AuditView):
    reads_stored = False  # the same view, handed decoded events


@pytest.fixture
def other_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'other_views.db'}")
    yield engine
    engine.dispose()


def some_history(store: EventStore) -> None:
    world = make_world(store)
    verified_user(store, "Rita Renter")  # sealed personal fields
    listing_id = world.active_listing()
    with command_context(world.renter, request_id="req-1"):
        booking_id, _ = world.bookings.place(
            world.renter, listing_id, start="2026-06-10", end="2026-06-11",
            quantity=1, guests=1, at=NOW,
        )  # fmt: skip
    with command_context(Actor(world.owner.id, "owner")):
        world.bookings.cancel(world.owner, booking_id, "sorry", NOW)


def audit_rows(engine: Engine, runner: ProjectionRunner) -> list[tuple[Any, ...]]:
    table = runner.tables("audit")["audit"]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.position))]


class CountingDecodes:
    """Counts the events decoded: by the store's mapper (it keeps decoding them) or built
    light (`projections/light.py`), a decode of another kind."""

    def __init__(self, store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        mapper = store.mapper
        one, many = mapper.to_domain_event, getattr(mapper, "to_domain_events", None)

        def to_domain_event(stored: Any) -> Any:
            self.count += 1
            return one(stored)

        def to_domain_events(stored: Any) -> Any:
            self.count += len(stored)
            assert many is not None
            return many(stored)

        light_event = light.light_event

        def counted_light_event(log: Any, note: Any, blind: Any = frozenset()) -> Any:
            event = light_event(log, note, blind)
            self.count += event is not None
            return event

        monkeypatch.setattr(light, "light_event", counted_light_event)
        monkeypatch.setattr(mapper, "to_domain_event", to_domain_event)
        if many is not None:
            monkeypatch.setattr(mapper, "to_domain_events", to_domain_events)


def test_stored_audit_row_is_the_decoded_events_row(store: EventStore) -> None:
    some_history(store)
    notes = store.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    events = decode_page(store, notes)

    stored = [stored_audit_row(n, n.id) for n in notes]

    assert stored == [audit_row(e, n.id) for e, n in zip(events, notes, strict=True)]
    assert len(stored) > 10
    assert any(r["actor_id"] and r["request_id"] == "req-1" for r in stored)


def test_audit_catches_up_and_rebuilds_without_decoding_into_the_decoded_rows(
    store: EventStore, engine: Engine, other_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    some_history(store)
    decodes = CountingDecodes(store, monkeypatch)
    runner = ProjectionRunner(store, engine, [AuditView()], batch_size=7)
    runner.catch_up()
    caught_up = audit_rows(engine, runner)
    runner.rebuild("audit")
    rebuilt = audit_rows(engine, runner)
    # only events whose class upcasts (listings' created and updated) are decoded, each pass
    notes = store.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    upcasting = sum(upcasts(n.topic) for n in notes)
    assert decodes.count == 2 * upcasting > 0

    decoded = ProjectionRunner(store, other_engine, [DecodedAuditView()], batch_size=7)
    decoded.catch_up()

    assert decodes.count - 2 * upcasting == len(caught_up) > 10
    assert caught_up == rebuilt == audit_rows(other_engine, decoded)


def test_audit_beside_views_that_decode_reads_their_events_and_the_rest_as_stored(
    store: EventStore, engine: Engine, other_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    some_history(store)
    decodes = CountingDecodes(store, monkeypatch)
    together = ProjectionRunner(store, engine, [AuditView(), BookingsView()], batch_size=7)
    together.catch_up()
    wanted = set(BookingsView.topics)
    notes = store.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    assert decodes.count == sum(n.topic in wanted or upcasts(n.topic) for n in notes) > 0

    # the same views handed decoded events only
    alone = ProjectionRunner(
        store, other_engine, [BookingsView(), DecodedAuditView()], batch_size=7
    )
    alone.catch_up()

    table = together.tables("bookings")["bookings"]
    with engine.connect() as a, other_engine.connect() as b:
        query = select(table).order_by(table.c.id)
        assert [tuple(r) for r in a.execute(query)] == [tuple(r) for r in b.execute(query)]
    assert audit_rows(engine, together) == audit_rows(other_engine, alone)


def test_only_json_states_are_read_as_stored() -> None:
    compressed = EventStore(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )
    assert plain_json(memory_store())
    assert not plain_json(compressed)


def test_erasures_are_always_decoded() -> None:
    def note(topic: str) -> Notification:
        return Notification(
            id=1, originator_id=uuid4(), originator_version=1, topic=topic, state=b"{}"
        )

    notes = [note("a:A"), note(USER_ERASED_TOPIC), note("b:B")]

    assert to_decode(notes, []) == {1}
    assert to_decode(notes, [frozenset({"b:B"})]) == {1, 2}
    assert to_decode(notes, [frozenset({"b:B"}), frozenset()]) == {0, 1, 2}
