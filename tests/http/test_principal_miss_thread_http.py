"""A principal-cache miss reads the session store in a command thread (interfaces/http/deps.py,
`run_in_command_thread`), never on the event loop, and answers as before."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from interfaces.http.offload import COMMANDS
from tests.http.conftest import API, Api


def test_a_principal_miss_is_resolved_in_a_command_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = api.new_user()
    identity = api.container.identity
    identity._principals.forget_token(auth.token)  # the next request misses
    authenticate = identity.authenticate
    threads: list[str] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return authenticate(*args, **kwargs)

    monkeypatch.setattr(identity, "authenticate", recording)
    response = api.client.get(f"{API}/users/me", headers=auth.headers)
    assert response.status_code == 200 and response.json()["id"] == auth.id
    assert threads and all(name.startswith(f"{COMMANDS.name}_") for name in threads)


def test_a_refused_token_is_refused_after_the_miss(api: Api) -> None:
    response = api.client.get(f"{API}/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
