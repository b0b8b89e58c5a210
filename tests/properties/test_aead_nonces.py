"""Sealing with counter nonces (infrastructure/aead_nonces.py): whatever is sealed opens
to what went in, under its own subject and AAD only, and no nonce repeats in a run: across
threads, across a counter that wraps (a new fixed field), across a forked child, and after a
destroyed key's cipher is dropped. On SQLite and PostgreSQL key rings."""

from __future__ import annotations

import contextlib
import os
from uuid import UUID, uuid4

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from infrastructure.aead_nonces import FIXED_BYTES, NONCES, NonceSource
from infrastructure.personal_keys import NONCE, SqlKeyRing
from tests.master_key import MASTER
from tests.properties.test_keyring_bounded import views_engine  # noqa: F401 - the fixture
from tests.properties.test_random_ids import drawn_in_child, drawn_in_threads

SUBJECTS = [uuid4() for _ in range(3)]
fields = st.lists(
    st.tuples(st.sampled_from(SUBJECTS), st.binary(max_size=16), st.binary(max_size=64)),
    min_size=1,
    max_size=30,
)


@pytest.fixture
def ring(engine: Engine) -> SqlKeyRing:
    return SqlKeyRing(engine, MASTER)


seen: set[bytes] = set()  # every nonce sealed in this run, by every test here


def _nonce_of(sealed: bytes | None) -> bytes:
    assert sealed is not None
    nonce = sealed[:NONCE]
    assert nonce not in seen, "a nonce repeated"
    seen.add(nonce)
    return nonce


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields)
def test_sealed_fields_open_with_their_subject_and_aad_and_never_share_a_nonce(
    ring: SqlKeyRing, items: list[tuple[UUID, bytes, bytes]]
) -> None:
    sealed = [(s, aad, text, ring.seal(s, aad, text)) for s, aad, text in items]
    for subject, aad, text, box in sealed:
        _nonce_of(box)
        assert box is not None
        assert ring.open(subject, aad, box) == text
        with pytest.raises(InvalidTag):
            ring.open(subject, aad + b"!", box)
        other = next(s for s in SUBJECTS if s != subject)
        with contextlib.suppress(InvalidTag):  # its key fails the tag; no key yet: None
            assert ring.open(other, aad, box) is None


def test_threads_never_share_a_nonce_and_a_wrapped_counter_draws_a_new_fixed_field() -> None:
    source = NonceSource(limit=50)  # wraps many times within the run
    nonces = drawn_in_threads(source.next)
    assert len(nonces) == 16_000 == len(set(nonces))
    assert all(len(n) == NONCE for n in nonces)
    fixed = {n[:FIXED_BYTES] for n in nonces}
    assert len(fixed) >= 16_000 // 50  # one fixed field per 50 nonces at most
    assert all(int.from_bytes(n[FIXED_BYTES:], "big") < 50 for n in nonces)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_repeat_its_parents_nonces() -> None:
    theirs = drawn_in_child(NONCES.next, 100, NONCE)
    parent = [NONCES.next() for _ in range(100)]
    assert len(theirs) == 100
    assert not set(theirs) & set(parent)
    assert theirs[0][:FIXED_BYTES] != parent[0][:FIXED_BYTES]


def test_a_destroyed_key_seals_and_opens_nothing_even_with_its_cipher_cached(
    ring: SqlKeyRing,
) -> None:
    subject = uuid4()
    box = ring.seal(subject, b"aad", b"secret")
    assert box is not None and ring.open(subject, b"aad", box) == b"secret"
    assert ring.destroy(subject)
    assert ring.seal(subject, b"aad", b"more") is None
    assert ring.open(subject, b"aad", box) is None
