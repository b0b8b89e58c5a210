"""A request in flight while a user is erased stores its answer after the erasure rewrote
the stored ones (task RB's review): an owner's approval that read the renter's message
before the keys were destroyed, and finished after. Its stored answer kept the erased data
for 24 h. The erasure now marks the in-flight rows with the ids it erased, and each answer
stored later that names one is stored as the 410 problem instead. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from interfaces.http.idempotency import Claim, IdempotencyStore, Stored
from interfaces.http.idempotency_erasure import forget_answers_about
from tests.http.conftest import Api

HEADERS = [(b"content-type", b"application/json")]


def _answer(*names: uuid.UUID) -> Stored:
    return Stored(200, HEADERS, b'{"people":["' + '","'.join(map(str, names)).encode() + b'"]}')


def _replay(store: IdempotencyStore, scope: str, key: str) -> Stored | None:
    claim, stored = store.claim(scope, key, "fp", datetime.now(UTC))
    assert claim == Claim.REPLAY
    return stored


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_answers_stored_after_an_erasure_by_requests_in_flight(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    store = IdempotencyStore(api.container.views)
    scope = f"rb-{uuid.uuid4()}"
    renter, owner, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for key in ("names-renter", "names-owner", "names-other"):
        assert store.claim(scope, key, "fp", datetime.now(UTC))[0] == Claim.CLAIMED

    forget_answers_about(api.container.views, renter)
    forget_answers_about(api.container.views, owner)  # a second erasure meanwhile
    store.complete(scope, "names-renter", _answer(renter, other))
    store.complete(scope, "names-owner", _answer(owner))
    store.complete(scope, "names-other", _answer(other))

    for key in ("names-renter", "names-owner"):
        erased = _replay(store, scope, key)
        assert erased is not None and erased.status == 410
        assert b"idempotent_answer_erased" in erased.body and b"people" not in erased.body
    kept = _replay(store, scope, "names-other")
    assert kept == _answer(other)  # an answer naming nobody erased is stored as it was

    assert store.claim(scope, "after", "fp", datetime.now(UTC))[0] == Claim.CLAIMED
    store.complete(scope, "after", _answer(renter))  # began after: the data reads erased
    assert _replay(store, scope, "after") == _answer(renter)  # the one-statement path
