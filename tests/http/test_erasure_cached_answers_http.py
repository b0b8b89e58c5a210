"""After an erasure nothing cached answers the erased data: not the key ring's cached "no
key yet" answer for a keyless subject another process erased, and not a stored
`Idempotency-Key` response (a plaintext copy of an answer, kept 24 h outside the key ring)
that holds the erased user's data: its replay answers 410 and the command still ran once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from infrastructure.master_keys import master_keys
from infrastructure.personal_keys import SqlKeyRing
from tests.http.bookings_support import MarketFactory, market_factory
from tests.http.conftest import API, Api

MESSAGE = "Arrival-note-hd-7731"


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_a_keyless_subject_erased_elsewhere_reads_as_erased_once_forgotten(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    engine: Engine = api.container.views
    master = master_keys(api.container.settings)  # the served rings' keys (task KW)
    here, elsewhere = SqlKeyRing(engine, master), SqlKeyRing(engine, master)
    subject = uuid.uuid4()  # never sealed anything: plaintext-only, legacy
    here.preload([subject])
    assert not here.is_destroyed(subject)  # cached: no key, for a while
    assert not elsewhere.destroy(subject)  # a tombstone, no key to destroy
    here.forget(subject)  # what reading `User.Erased` does
    assert here.is_destroyed(subject)
    assert here.open(subject, b"aad", b"\0" * 40) is None


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_an_idempotent_replay_never_answers_an_erased_users_data(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    market: MarketFactory = market_factory(api)
    m = market(booking_mode="request")
    booking = m.placed(message=MESSAGE)
    approve = f"{API}/bookings/{booking['id']}/approve"
    headers = m.owner.headers | {"Idempotency-Key": "approve-hd-1"}
    first = api.client.post(approve, headers=headers)
    assert first.status_code == 200, first.text
    assert MESSAGE in first.text  # the owner's answer shows the renter's message
    replay = api.client.post(approve, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.text == first.text
    erased = api.client.delete(f"{API}/admin/users/{m.renter.id}", headers=m.admin.headers)
    assert erased.status_code == 200, erased.text

    after = api.client.post(approve, headers=headers)
    assert MESSAGE not in after.text and m.renter.id not in after.text
    assert after.status_code == 410, after.text
    assert after.json()["code"] == "idempotent_answer_erased"
    assert after.headers.get("Idempotent-Replayed") == "true"  # not run again
    current = m.get(booking["id"], m.owner).json()
    assert current["status"] != "pending_owner_approval" and current["message"] != MESSAGE
