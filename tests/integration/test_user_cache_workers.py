"""Two API workers' containers on one database (SQLite, PostgreSQL), each with its user
cache (application/user_cache.py): a profile cached by worker B is never read stale
after worker A edits, suspends or erases the user, and an erasure drops the eraser's own
entry at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from domain.personal_data import ERASED
from domain.user import ERASED_STATUS, SUSPENDED
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import NOW
from tests.http.conftest import CHEAP_ARGON2
from tests.money_stores import STORES, store_settings

PASSWORD = "a long enough passphrase"


@pytest.fixture(params=STORES)
def workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Container, Container]]:
    settings: Settings = store_settings(request.param, tmp_path, request)
    a = build_container(settings, **CHEAP_ARGON2)
    b = build_container(settings, **CHEAP_ARGON2)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def warm(worker: Container, user_id: UUID) -> None:
    """Two reads by the worker: the second is answered from its cache."""
    worker.identity.get_user(user_id)
    hits = worker.identity.users.hits
    worker.identity.get_user(user_id)
    assert worker.identity.users.hits == hits + 1


def register(worker: Container, email: str = "ada@example.com") -> UUID:
    user_id, _ = worker.identity.register(email, PASSWORD, "Ada", "+44 20 7946 0000", at=NOW)
    return user_id


def test_a_profile_edited_by_another_worker_is_read_at_once(
    workers: tuple[Container, Container],
) -> None:
    a, b = workers
    user_id = register(a)
    warm(b, user_id)

    a.identity.update_profile(user_id, name="Ada Lovelace", phone="", at=NOW)

    seen = b.identity.get_user(user_id)
    assert (seen.name, seen.phone) == ("Ada Lovelace", None)
    assert seen.version == a.identity.get_user(user_id).version


def test_a_suspension_by_another_worker_is_read_at_once(
    workers: tuple[Container, Container],
) -> None:
    a, b = workers
    admin_id, _, _ = a.identity.create_admin("root@example.com", PASSWORD, "Root", at=NOW)
    user_id = register(a)
    warm(b, user_id)

    a.identity.suspend_user(user_id, by_admin=admin_id, reason="spam", at=NOW)

    assert b.identity.get_user(user_id).status == SUSPENDED


def test_an_erasure_by_another_worker_is_read_at_once(
    workers: tuple[Container, Container],
) -> None:
    a, b = workers
    user_id = register(a)
    warm(b, user_id)

    a.erasure.erase_self(user_id, PASSWORD, at=NOW)

    seen = b.identity.get_user(user_id)
    assert seen.status == ERASED_STATUS
    assert (seen.email, seen.name, seen.phone) == (ERASED, ERASED, None)


def test_the_erasing_worker_drops_its_entry_at_once(
    workers: tuple[Container, Container],
) -> None:
    a, _ = workers
    user_id = register(a)
    warm(a, user_id)

    a.erasure.erase_self(user_id, PASSWORD, at=NOW)

    assert len(a.identity.users) == 0
    assert a.identity.get_user(user_id).email == ERASED
