"""After erasing one user of a random multi-user history, their plaintext is nowhere: not in
any view table (the embedded search index included), not in another user's export, not in
the event log or its auditor export, not in any time-travel state; while everyone else's
data is still there, and the ledger balances and equals its regeneration."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.ledger import verify
from infrastructure.bootstrap import Container, build_container
from infrastructure.event_export import Bounds, export_events
from infrastructure.event_log import SqliteEventLog
from infrastructure.settings import Settings
from interfaces.http.personal_data import export_user
from tests.builders import NOW
from tests.erasure_builders import History, Person, Plan, stored_text, view_text
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, PASSWORD

plans = st.builds(Plan, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=3, max_size=10)


@pytest.fixture
def container(sqlite_settings: Settings) -> Iterator[Container]:
    made = build_container(
        sqlite_settings, clock=FakeClock(NOW), mailer=CapturingMailer(), **CHEAP_ARGON2
    )
    assert made.search is not None
    made.search.ensure_settings()
    try:
        yield made
    finally:
        made.close()


def everything_after(container: Container, people: list[Person], victim: Person) -> str:
    """All the text a reader could see once the views, ledger and index caught up."""
    c = container
    c.runner.catch_up()
    assert c.ledger is not None and c.search_syncer is not None
    c.ledger.catch_up()
    c.search_syncer.sync_once(date(2026, 6, 1))
    parts = [view_text(c.views), stored_text(c.store)]
    parts += [export_user(c, p.id).model_dump_json() for p in people if p is not victim]
    out = io.StringIO()
    with SqliteEventLog(str(c.settings.data_dir / "events.db")) as log:
        export_events(log, out, Bounds())
    parts.append(out.getvalue())
    notes = c.store.recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)
    for note in notes:  # every state every stream went through
        stream = uuid.UUID(str(note.originator_id))
        aggregate: object = c.store.repository.get(stream, version=note.originator_version)
        parts.append(repr(vars(aggregate)))
    return "\n".join(parts)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.tuples(plans, texts), min_size=2, max_size=4),
    victim_index=st.integers(min_value=0, max_value=3),
    by_admin=st.booleans(),
)
def test_an_erased_users_plaintext_is_nowhere_and_the_ledger_still_balances(
    container: Container, people: list[tuple[Plan, str]], victim_index: int, by_admin: bool
) -> None:
    history = History(container, uuid.uuid4().hex[:8])
    persons = [history.person(n, plan, text) for n, (plan, text) in enumerate(people)]
    victim = persons[victim_index % len(persons)]
    erasure = container.erasure
    if by_admin:
        erasure.erase_by_admin(victim.id, by_admin=history.admin.id, at=NOW)
    else:
        erasure.erase_self(victim.id, PASSWORD, at=NOW)

    seen = everything_after(container, persons, victim)
    assert [s for s in victim.secrets if s in seen] == []
    survivors = [s for p in persons if p is not victim for s in p.secrets]
    assert all(s in seen for s in survivors)  # erasure took only the victim's data
    assert container.identity.get_user(victim.id).status == "erased"
    ledger = verify(container.store)
    assert ledger.balanced and ledger.derived_matches_recorded
    assert ledger.entries >= history.slot  # a capture entry per paid booking of this history
