"""The principal cache: a revoked session is refused at once in the process that revoked it,
however it was revoked; a revocation it did not see (another process's) takes effect once
the entry's TTL has passed."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from application.principal_cache import RevocationAwareSessions
from infrastructure.bootstrap import Container
from tests.http.conftest import API, PASSWORD, Api, Auth

ME = f"{API}/users/me"


def me(api: Api, auth: Auth) -> int:
    return api.client.get(ME, headers=auth.headers).status_code


def sessions(container: Container) -> RevocationAwareSessions:
    assert isinstance(container.sessions, RevocationAwareSessions)
    return container.sessions


def logout(api: Api, auth: Auth) -> None:
    assert api.client.post(f"{API}/auth/logout", headers=auth.headers).status_code == 204


def delete_session(api: Api, auth: Auth) -> None:
    other = api.login(auth.email)  # the user ends this session from another one
    session_id = api.container.identity.authenticate(auth.token, at=api.clock.now()).session_id
    r = api.client.delete(f"{API}/auth/sessions/{session_id}", headers=other.headers)
    assert r.status_code == 204, r.text


def change_password(api: Api, auth: Auth) -> None:
    other = api.login(auth.email)
    keep = api.container.identity.authenticate(other.token, at=api.clock.now()).session_id
    api.container.identity.change_password(
        UUID(auth.id), PASSWORD, "a brand new passphrase", at=api.clock.now(), keep_session_id=keep
    )


def revoke_all_through_the_store(api: Api, auth: Auth) -> None:
    """As a password reset does: straight through the SessionStore's revoke methods."""
    assert api.container.sessions.revoke_all(UUID(auth.id)) >= 1


def suspend(api: Api, auth: Auth) -> None:
    admin = api.admin()
    api.container.identity.suspend_user(
        UUID(auth.id), by_admin=UUID(admin.id), reason="test", at=api.clock.now()
    )


@pytest.mark.parametrize(
    "revoke",
    [logout, delete_session, change_password, revoke_all_through_the_store, suspend],
    ids=lambda f: f.__name__,
)
def test_a_revoked_session_is_refused_at_once_in_this_process(
    api: Api, revoke: Callable[[Api, Auth], None]
) -> None:
    alice = api.new_user()
    assert me(api, alice) == 200  # cached now
    revoke(api, alice)
    assert me(api, alice) == 401


def test_a_revocation_this_process_did_not_see_holds_until_the_ttl_then_is_reread(
    api: Api,
) -> None:
    alice = api.new_user()
    assert me(api, alice) == 200
    sessions(api.container).inner.revoke_all(UUID(alice.id))  # another process did this

    assert me(api, alice) == 200  # answered from the cache: the documented bound
    api.clock.advance(seconds=api.container.settings.principal_cache_seconds - 1)
    assert me(api, alice) == 200
    api.clock.advance(seconds=1)
    assert me(api, alice) == 401  # the entry expired: the session store was read again


def test_a_role_granted_is_seen_by_the_next_request(api: Api) -> None:
    alice, admin = api.new_user(), api.admin()
    assert api.client.get(f"{API}/admin/audit", headers=alice.headers).status_code == 403
    api.container.identity.grant_role(
        UUID(alice.id), "admin", by_admin=UUID(admin.id), at=api.clock.now()
    )
    assert api.client.get(f"{API}/admin/audit", headers=alice.headers).status_code == 200
