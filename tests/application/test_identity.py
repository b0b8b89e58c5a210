"""Identity use cases on the in-memory event store, in-process adapters and a fake clock."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import unquote, urlparse
from uuid import uuid4

import pytest

from application.identity import Identity
from application.store import EventStore
from domain.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied
from domain.user import AccountLockedError
from infrastructure.passwords import Argon2Hasher
from infrastructure.ratelimit import InMemoryLoginFailures, InMemoryRateLimiter
from infrastructure.sessions import InMemorySessionStore
from tests.fakes import FakeClock

PASSWORD = "correct horse battery"
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1)


def build(store: EventStore | None = None) -> Identity:
    return Identity(
        store or EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        FAST_HASHER,
        InMemorySessionStore(),
        InMemoryLoginFailures(5, window=timedelta(minutes=15), lockout=timedelta(minutes=15)),
        session_ttl=timedelta(days=7),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def identity() -> Identity:
    return build()


def test_a_registered_user_can_log_in_and_be_authenticated(
    identity: Identity, clock: FakeClock
) -> None:
    user_id, position = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    assert position > 0
    session, logged_in, _ = identity.login("ADA@example.com ", PASSWORD, at=clock.now())
    assert logged_in == user_id
    assert session.token and session.expires_at == clock.now() + timedelta(days=7)
    principal = identity.authenticate(session.token, at=clock.now())
    assert principal.user_id == user_id
    assert principal.roles == ("renter",)
    assert principal.session_id == session.id
    assert principal.csrf_token == session.csrf_token
    details = identity.get_user(user_id)
    assert (details.email, details.name, details.status) == ("ada@example.com", "Ada", "active")


def test_a_duplicate_email_in_another_case_is_a_conflict(
    identity: Identity, clock: FakeClock
) -> None:
    identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    with pytest.raises(ConflictError) as exc:
        identity.register(" ADA@Example.COM", PASSWORD, "Imposter", at=clock.now())
    assert exc.value.code == "email_taken"


def test_a_wrong_password_and_an_unknown_email_fail_alike(
    identity: Identity, clock: FakeClock
) -> None:
    identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    errors = []
    for email, password in [("ada@example.com", "wrong password!"), ("bob@x.org", PASSWORD)]:
        with pytest.raises(AuthenticationError) as exc:
            identity.login(email, password, at=clock.now())
        errors.append((exc.value.code, exc.value.detail))
    assert errors[0] == errors[1] == ("invalid_credentials", "wrong email or password")


def test_five_failures_lock_the_account_for_fifteen_minutes(clock: FakeClock) -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    identity = build(store)
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            identity.login("ada@example.com", "wrong password!", at=clock.now())
    with pytest.raises(AccountLockedError) as locked:
        identity.login("ada@example.com", "wrong password!", at=clock.now())
    unlock = clock.now() + timedelta(minutes=15)
    assert locked.value.until == unlock
    assert locked.value.code == "account_locked"

    clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountLockedError):  # even the right password
        identity.login("ada@example.com", PASSWORD, at=clock.now())

    clock.advance(seconds=1)
    _, logged_in, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert logged_in == user_id
    events = [type(e).__name__ for e in store.repository.event_store.get(user_id)]
    assert "LockedOut" in events


def test_a_successful_login_forgets_earlier_failures(identity: Identity, clock: FakeClock) -> None:
    identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(AuthenticationError):
                identity.login("ada@example.com", "wrong password!", at=clock.now())
        identity.login("ada@example.com", PASSWORD, at=clock.now())


def test_sessions_slide_and_expire_after_seven_idle_days(
    identity: Identity, clock: FakeClock
) -> None:
    identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    session, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert session.token
    for _ in range(3):  # used every six days, it lives on
        clock.advance(days=6)
        identity.authenticate(session.token, at=clock.now())
    clock.advance(days=7)
    with pytest.raises(AuthenticationError) as exc:
        identity.authenticate(session.token, at=clock.now())
    assert exc.value.code == "invalid_session"


def test_a_revoked_session_no_longer_authenticates(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    phone, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    clock.advance(minutes=1)
    laptop, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert phone.token and laptop.token
    listed = identity.sessions(user_id, at=clock.now())
    assert [s.id for s in listed] == [phone.id, laptop.id]
    assert all(s.token is None for s in listed)

    identity.revoke_session(user_id, phone.id)
    with pytest.raises(AuthenticationError):
        identity.authenticate(phone.token, at=clock.now())
    with pytest.raises(NotFoundError):
        identity.revoke_session(user_id, phone.id)
    with pytest.raises(NotFoundError):  # another user's session cannot be revoked
        identity.revoke_session(uuid4(), laptop.id)

    assert identity.logout(laptop.token)
    with pytest.raises(AuthenticationError):
        identity.authenticate(laptop.token, at=clock.now())
    assert identity.sessions(user_id, at=clock.now()) == []


def test_a_suspended_user_is_refused(identity: Identity, clock: FakeClock) -> None:
    admin_id, _, created = identity.create_admin(
        "root@example.com", PASSWORD, "Root", at=clock.now()
    )
    assert created
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    session, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert session.token
    identity.suspend_user(user_id, by_admin=admin_id, reason="fraud", at=clock.now())
    with pytest.raises(AuthenticationError):
        identity.authenticate(session.token, at=clock.now())
    with pytest.raises(AuthenticationError) as exc:
        identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert exc.value.code == "account_suspended"


def test_owner_role_is_granted_once(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    assert identity.grant_owner(user_id, at=clock.now()) > 0
    assert identity.grant_owner(user_id, at=clock.now()) == 0
    assert identity.get_user(user_id).roles == ("owner", "renter")


def test_only_an_admin_grants_roles(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    other_id, _ = identity.register("bob@example.com", PASSWORD, "Bob", at=clock.now())
    with pytest.raises(PermissionDenied):
        identity.grant_role(other_id, "admin", by_admin=user_id, at=clock.now())
    admin_id, _, _ = identity.create_admin("root@example.com", PASSWORD, "Root", at=clock.now())
    identity.grant_role(other_id, "admin", by_admin=admin_id, at=clock.now())
    assert "admin" in identity.get_user(other_id).roles


def test_create_admin_promotes_an_existing_account(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    admin_id, position, created = identity.create_admin(
        "Ada@Example.com", "another password", "Ignored", at=clock.now()
    )
    assert (admin_id, created) == (user_id, False) and position > 0
    assert identity.get_user(user_id).roles == ("admin", "renter")
    identity.login("ada@example.com", PASSWORD, at=clock.now())  # password unchanged


def test_profile_updates_honour_the_expected_version(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    version = identity.get_user(user_id).version
    identity.update_profile(user_id, name="Ada King", at=clock.now(), expected_version=version)
    with pytest.raises(ConflictError) as exc:
        identity.update_profile(
            user_id, phone="0612345678", at=clock.now(), expected_version=version
        )
    assert exc.value.code == "version_mismatch"
    assert identity.get_user(user_id).name == "Ada King"


def test_changing_the_password_ends_other_sessions(identity: Identity, clock: FakeClock) -> None:
    user_id, _ = identity.register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    here, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    there, _, _ = identity.login("ada@example.com", PASSWORD, at=clock.now())
    assert here.token and there.token
    identity.change_password(
        user_id, PASSWORD, "a brand new secret", at=clock.now(), keep_session_id=here.id
    )
    identity.authenticate(here.token, at=clock.now())
    with pytest.raises(AuthenticationError):
        identity.authenticate(there.token, at=clock.now())
    identity.login("ada@example.com", "a brand new secret", at=clock.now())


def test_a_weak_hash_is_upgraded_on_login(clock: FakeClock) -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    build(store).register("ada@example.com", PASSWORD, "Ada", at=clock.now())
    stronger = Identity(
        store,
        Argon2Hasher(time_cost=2, memory_cost=64, parallelism=1),
        InMemorySessionStore(),
        InMemoryLoginFailures(5, window=timedelta(minutes=15), lockout=timedelta(minutes=15)),
    )
    _, _, position = stronger.login("ada@example.com", PASSWORD, at=clock.now())
    assert position > 0
    _, _, position = stronger.login("ada@example.com", PASSWORD, at=clock.now())
    assert position == 0


@pytest.mark.postgres
def test_twenty_racing_sign_ups_of_one_email_make_one_account(pg_url: str) -> None:
    url = urlparse(pg_url)
    store = EventStore(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "20",
            "CREATE_TABLE": "y",
        }
    )
    identity = build(store)
    clock = FakeClock()
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def sign_up(i: int) -> None:
        barrier.wait()
        try:
            identity.register(
                f"Racer@Example.com{' ' * (i % 2)}", PASSWORD, f"R{i}", at=clock.now()
            )
            outcome = "ok"
        except ConflictError as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["email_taken"] * 19 + ["ok"]
    users = [
        n for n in store.notification_log.select(1, 1000) if n.topic.endswith("User.Registered")
    ]
    assert len(users) == 1
    store.close()


def test_the_in_process_rate_limiter_spreads_the_limit_over_the_window(clock: FakeClock) -> None:
    limiter = InMemoryRateLimiter(clock)
    decisions = [limiter.hit("ip:1", limit=10, window_seconds=60) for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert decisions[-1].retry_after == 6  # one hit frees up every 6 s
    clock.advance(seconds=6)
    assert limiter.hit("ip:1", limit=10, window_seconds=60).allowed
    assert not limiter.hit("ip:1", limit=10, window_seconds=60).allowed
