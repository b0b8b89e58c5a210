"""Light events (`projections/light.py`) are the mapper's decoded events: same class, same
fields, same values of the same types, for every topic built light, over real histories
(random booking commands on the in-memory store; a wide history with sealed personal fields
and an erasure on SQLite). Personal, upcasting and erasure topics are never built light,
and the views caught up from light events equal the views caught up without them."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.erasure import Erasure
from application.json_codec import orjson_reads
from application.store import EventStore
from domain.errors import DomainError
from domain.personal_data import PERSONAL_EVENTS, USER_ERASED_TOPIC
from infrastructure.eventstore import build_event_store
from infrastructure.sessions import InMemorySessionStore
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections import light
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from projections.stored import upcasts
from tests.builders import NOW, identity_of, make_world, verified_user
from tests.projections.helpers import every_view
from tests.projections.test_audit_stored import some_history
from tests.properties.test_rebuild_equals_incremental import commands, run


def exact(event: object) -> str:
    """The class and every field with its type (repr tells an aware datetime's offset, a
    Decimal's exponent, a UUID from its text)."""
    return repr((type(event), [(k, type(v), v) for k, v in vars(event).items()]))


def check_light_equals_decoded(store: EventStore) -> set[str]:
    """Every event of the log built light equals the mapper's; returns the topics built
    light (each of its events was: none fell back without a reason)."""
    notes = store.recorder.select_notifications(1, 100_000)
    built: set[str] = set()
    for note in notes:
        made = light.light_event(store, note)
        if made is None:
            # The reasons a light-class event goes to the mapper: a `\\u` escape, or a run
            # of 19+ digits orjson might misread (random uuid hex has one now and then).
            fallback = b"\\u" in note.state or not orjson_reads(note.state)
            assert light.light_class(note.topic) is None or fallback, (note.topic, note.state)
            continue
        assert exact(made) == exact(store.mapper.to_domain_event(note)), note.topic
        built.add(note.topic)
    decoded = light.decode_events(store, notes)  # a page mixing both kinds, in order
    assert [exact(e) for e in decoded] == [exact(store.mapper.to_domain_event(n)) for n in notes]
    assert not built & (set(PERSONAL_EVENTS) | {USER_ERASED_TOPIC})
    assert not any(upcasts(t) for t in built)
    return built | check_blind_equals_decoded_but_erased(store, notes)


def check_blind_equals_decoded_but_erased(store: EventStore, notes: Any) -> set[str]:
    """Personal events built blind are the decoded ones with their personal fields erased."""
    built: set[str] = set()
    for note in notes:
        policy = PERSONAL_EVENTS.get(note.topic)
        if policy is None or policy.nested or upcasts(note.topic):
            continue
        made = light.light_event(store, note, frozenset({note.topic}))
        if made is None:
            assert b"\\u" in note.state, note.topic
            continue
        decoded = store.mapper.to_domain_event(note)
        for field, erased in policy.fields.items():
            if field in vars(decoded):
                object.__setattr__(decoded, field, erased)
        assert exact(made) == exact(decoded), note.topic
        built.add(note.topic)
    return built


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=14))
def test_light_events_equal_decoded_ones_over_random_booking_histories(
    steps: list[tuple[Any, ...]],
) -> None:
    world = make_world()
    listings = [
        world.active_listing(quantity=2),
        world.active_listing(booking_mode="request"),
        world.active_listing(quantity=3, booking_mode="request"),
    ]
    placed: list[UUID] = []
    for command in steps:
        with contextlib.suppress(DomainError):  # refused commands are part of the story
            run(world, listings, placed, command)
    built = check_light_equals_decoded(world.store)
    assert "domain.listing:Listing.Submitted" in built


def test_light_events_with_sealed_fields_and_an_erasure_equal_decoded_ones_and_views_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_ = Settings(environment="test", data_dir=tmp_path, workers_in_process=False)
    store = build_event_store(settings_)
    some_history(store)
    identity = identity_of(store)
    erased = verified_user(store, "Eve Erased")
    erasure = Erasure(store, identity.hasher, InMemorySessionStore(), lambda _: 0)
    erasure.erase_self(erased, "correct horse battery", at=NOW)
    some_history(store)  # events after the erasure too

    built = check_light_equals_decoded(store)
    assert {
        "domain.booking:Booking.Cancelled",
        "domain.user:User.EmailVerified",
        "domain.booking:Booking.Placed",  # blind: its message sealed
        "domain.user:User.Registered",  # blind: email and name sealed, or erased
    } <= built

    with tempfile.TemporaryDirectory() as tmp:
        light_engine = create_views_engine(f"sqlite:///{Path(tmp) / 'light.db'}")
        mapper_engine = create_views_engine(f"sqlite:///{Path(tmp) / 'mapper.db'}")
        try:
            with_light = ProjectionRunner(store, light_engine, all_projections(), batch_size=5)
            with_light.catch_up()
            with monkeypatch.context() as m:
                m.setattr(light, "light_event", lambda *args: None)  # the mapper only
                without = ProjectionRunner(store, mapper_engine, all_projections(), batch_size=5)
                without.catch_up()
            assert every_view(with_light, light_engine) == every_view(without, mapper_engine)
            # rebuilt alone, these views take Booking.Placed blind (no message opened)
            placed = "domain.booking:Booking.Placed"
            for view in ("bookings", "payments", "deadlines", "audit"):
                projection = next(p for p in all_projections() if p.name == view)
                shape = [(frozenset(projection.topics), projection.reads_personal)]
                assert placed in light.blind_topics(shape), view
                with_light.rebuild(view)
            with_light.rebuild_all()  # with notifications: Booking.Placed is decoded
            assert every_view(with_light, light_engine) == every_view(without, mapper_engine)
        finally:
            light_engine.dispose()
            mapper_engine.dispose()
