"""The mapper's page decode gives what decoding each event on its own gives (the key ring
asked event by event), on SQLite and PostgreSQL: sealed and plaintext personal fields,
subjects erased before the page, erased midway through it (a `User.Erased` in the page:
the subject's later events read as erased, its earlier ones as they were), and envelopes
in fields the policy does not list. The transcoder's decode with a topic hint equals the
stock decoder's, however the topic's typed fields change from one state to the next."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from application.personal_mapper import ENVELOPE, PersonalDataMapper, _aad
from application.store import EventStore
from domain.booking import Booking
from domain.personal_data import ERASED, USER_ERASED_TOPIC
from domain.user import User
from infrastructure.personal_keys import SqlKeyRing
from tests.master_key import MASTER
from tests.properties.test_keyring_bounded import views_engine  # noqa: F401 - the fixture

PLACED_EXTRA = "placed_extra"  # sealed message and a sealed field no policy lists
KINDS = ["plain", "sealed", PLACED_EXTRA, "erased"]
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)

# (kind, subject index, message)
ops = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.text(max_size=12)),
    min_size=1,
    max_size=25,
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _event(cls: type, stream: UUID, version: int, state: dict[str, Any]) -> Any:
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", {**state, "originator_id": stream})
    event.__dict__["originator_version"] = version
    return event


def _stored_page(
    mapper: PersonalDataMapper, plans: list[tuple[str, int, str]], subjects: list[UUID]
) -> list[StoredEvent]:
    plain = Mapper(mapper.transcoder)
    page = []
    for version, (kind, who, message) in enumerate(plans, start=1):
        subject = subjects[who]
        if kind == "erased":
            erased = _event(User.Erased, subject, version, {"timestamp": NOW, "by": subject})
            page.append(plain.to_stored_event(erased))
            continue
        state = {"timestamp": NOW, "renter_id": subject, "listing_id": uuid4(), "message": message}
        placed = _event(Booking.Placed, uuid4(), version, state)
        if kind == "plain":
            page.append(plain.to_stored_event(placed))
            continue
        if kind == PLACED_EXTRA:  # a field sealed by hand: no policy names it
            stream = placed.originator_id
            sealed = mapper.keyring.seal(subject, _aad(stream, "note"), b'"a note"')
            assert sealed is not None
            cipher = base64.b64encode(sealed).decode()
            placed.__dict__["note"] = {ENVELOPE: {"s": str(subject), "c": cipher, "e": ERASED}}
        page.append(mapper.to_stored_event(placed))
    return page


def _expected(plans: list[tuple[str, int, str]], before: set[int]) -> list[tuple[Any, Any]]:
    """(message, note) of each Placed: erased for a subject erased before the page, or
    after a `User.Erased` of theirs earlier in it."""
    gone, out = set(before), []
    for kind, who, message in plans:
        if kind == "erased":
            gone.add(who)
            continue
        note = ("a note" if who not in gone else ERASED) if kind == PLACED_EXTRA else None
        out.append((ERASED if who in gone else message, note))
    return out


@SETTINGS
@given(plans=ops, before=st.sets(st.integers(0, 3)))
def test_a_page_decodes_as_its_events_one_by_one(
    engine: Engine, plans: list[tuple[str, int, str]], before: set[int]
) -> None:
    subjects = [uuid4() for _ in range(4)]
    writer = EventStore(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, keyring=SqlKeyRing(engine, MASTER)
    )
    assert isinstance(writer.mapper, PersonalDataMapper)
    for subject in subjects:  # each has a key, as every registered user does
        writer.mapper.keyring.seal(subject, b"registered", b"{}")
    page = _stored_page(writer.mapper, plans, subjects)
    for who in before:
        writer.mapper.keyring.destroy(subjects[who])
    rings = [SqlKeyRing(engine, MASTER) for _ in range(2)]
    paged, single = (PersonalDataMapper(writer.mapper.transcoder, ring) for ring in rings)
    earlier = [stored for stored in page if stored.topic != USER_ERASED_TOPIC]
    for mapper in (paged, single):  # both hold every live key, as a runner mid-log does
        mapper.to_domain_events(earlier)
    erased_in_page = {who for kind, who, _ in plans if kind == "erased"}
    for who in erased_in_page - before:  # by another process: these rings keep the key
        SqlKeyRing(engine, MASTER).destroy(subjects[who])

    by_page = paged.to_domain_events(page)
    one_by_one = [single.to_domain_event(stored) for stored in page]

    assert [vars(e) for e in by_page] == [vars(e) for e in one_by_one]
    placed = [e for e in by_page if isinstance(e, Booking.Placed)]
    seen = [(e.message, vars(e).get("note")) for e in placed]
    assert seen == _expected(plans, before), (plans, before)


typed_values = st.one_of(
    st.uuids(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
plain_values = st.one_of(
    st.integers(-(2**70), 2**70), st.text(max_size=8), st.none(), st.just("_type_")
)
values = st.one_of(
    typed_values,
    plain_values,
    st.dictionaries(st.sampled_from(["a", "_type_"]), typed_values | plain_values),
    st.lists(typed_values, max_size=2),
)
states = st.dictionaries(st.sampled_from(["id", "at", "day", "amount", "x", "y"]), values)


@settings(max_examples=300, deadline=None)
@given(st.lists(states, min_size=1, max_size=8))
def test_the_topic_hint_decodes_as_the_stock_decoder(sequence: list[dict[str, Any]]) -> None:
    store = EventStore({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    transcoder = store.mapper.transcoder
    for state in sequence:
        data = transcoder.encode(state)
        hinted = transcoder.decode_as(data, "topic")  # type: ignore[attr-defined]
        assert hinted == JSONTranscoder.decode(transcoder, data)  # type: ignore[arg-type]
        assert hinted == state
