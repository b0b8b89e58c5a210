"""The `client` fixtures' apps borrow one worker's route tables (`tests/http/route_tables.py`)
and must still behave as apps of their own."""

from __future__ import annotations

from fastapi import HTTPException

from infrastructure.bootstrap import Container
from interfaces.http.deps import get_container
from tests.http.conftest import API, fixture_app, https_client


def _teapot() -> Container:
    raise HTTPException(418)


def test_a_route_one_test_adds_is_not_in_the_next_tests_app(container: Container) -> None:
    first = fixture_app(container)
    first.add_api_route(f"{API}/test/added", lambda: {"ok": True}, methods=["GET"])
    with https_client(first) as client:
        assert client.get(f"{API}/test/added").status_code == 200
    with https_client(fixture_app(container)) as client:
        assert client.get(f"{API}/test/added").status_code == 404


def test_dependency_overrides_apply_and_do_not_outlive_their_app(container: Container) -> None:
    first = fixture_app(container)
    first.dependency_overrides[get_container] = _teapot
    with https_client(first) as client:
        assert client.get(f"{API}/health").status_code == 418
    with https_client(fixture_app(container)) as client:
        assert client.get(f"{API}/health").status_code == 200


def test_each_app_serves_its_own_container(container: Container) -> None:
    first, second = fixture_app(container), fixture_app(container)
    assert first is not second and first.state is not second.state
    assert second.state.container is container
