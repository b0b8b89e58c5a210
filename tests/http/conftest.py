"""HTTP fixtures: the app on the embedded default (`client`, `api`) and on PostgreSQL + Redis
(`pg_client`, `pg_api`), workers running, argon2 cheap, rate limits off unless a test sets
them.

    def test_something(api: Api) -> None:
        alice = api.new_user()
        r = api.client.get("/api/v1/users/me", headers=alice.headers)
        admin = api.admin()
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from interfaces.http.app import create_app
from interfaces.http.lean_routes import install_lean_routes
from tests.fakes import CapturingMailer, FakeClock
from tests.http.route_tables import borrow_route_tables
from tests.store_templates import SqliteTemplates

API = "/api/v1"
PASSWORD = "correct horse battery"
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
NO_LIMITS: Mapping[str, tuple[int, int] | None] = {"*": None}


@dataclass
class Auth:
    user: dict[str, Any]
    token: str
    csrf_token: str
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def email(self) -> str:
        return str(self.user["email"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Api:
    client: TestClient
    container: Container
    clock: FakeClock

    @property
    def app(self) -> FastAPI:
        app: FastAPI = self.client.app  # type: ignore[assignment]
        return app

    @property
    def mailer(self) -> CapturingMailer:
        mailer = self.container.mailer
        assert isinstance(mailer, CapturingMailer)
        return mailer

    def register(
        self, email: str | None = None, *, verify: bool = True, **body: Any
    ) -> dict[str, Any]:
        """Signs up; with `verify` (the default) also verifies the email through the
        mailed token, as a user would, so the account can publish listings."""
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        payload = {"email": email, "password": PASSWORD, "name": "Test User", **body}
        response = self.client.post(f"{API}/auth/register", json=payload)
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        if verify:
            self.verify_email(email)
            user["email_verified"] = True
        return user

    def verify_email(self, email: str) -> None:
        token = self.mailer.last_token(email, "verify_email")
        response = self.client.post(f"{API}/auth/verify-email", json={"token": token})
        assert response.status_code == 200, response.text

    def login(self, email: str, password: str = PASSWORD) -> Auth:
        response = self.client.post(
            f"{API}/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        self.client.cookies.clear()  # tests opt into cookie auth explicitly
        return Auth(body["user"], body["token"], body["csrf_token"], password)

    def new_user(self, **body: Any) -> Auth:
        return self.login(self.register(**body)["email"])

    def admin(self) -> Auth:
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
        self.container.identity.create_admin(email, PASSWORD, "Admin", at=self.clock.now())
        return self.login(email)


def make_app(
    container: Container,
    rate_limits: Mapping[str, tuple[int, int] | None] = NO_LIMITS,
    **kwargs: Any,
) -> FastAPI:
    return create_app(container, rate_limits=rate_limits, **kwargs)


def fixture_app(container: Container) -> FastAPI:
    """The `client` fixtures' app: a new one, with the worker's route tables. Its lean
    routes are built from those tables, already resolved (from its own they would cost
    ~0.2 s of CPU per test)."""
    app = borrow_route_tables(make_app(container, lean_routes=False), create_app)
    install_lean_routes(app)
    return app


def https_client(app: FastAPI) -> TestClient:
    # https: the session cookie is Secure outside development.
    return TestClient(app, base_url="https://testserver")


def _running_container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    container = build_container(settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.start_workers(scheduler_interval=0.5)
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def container(
    sqlite_settings: Settings, clock: FakeClock, sqlite_templates: SqliteTemplates
) -> Iterator[Container]:
    sqlite_templates.seed(sqlite_settings)  # an empty store, its tables already made
    yield from _running_container(sqlite_settings, clock)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with https_client(fixture_app(container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, container: Container, clock: FakeClock) -> Api:
    return Api(client, container, clock)


@pytest.fixture
def pg_container(pg_store_settings: Settings, clock: FakeClock) -> Iterator[Container]:
    yield from _running_container(pg_store_settings, clock)


@pytest.fixture
def pg_client(pg_container: Container) -> Iterator[TestClient]:
    with https_client(fixture_app(pg_container)) as test_client:
        yield test_client


@pytest.fixture
def pg_api(pg_client: TestClient, pg_container: Container, clock: FakeClock) -> Api:
    return Api(pg_client, pg_container, clock)


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> Api:
    """The `api` on SQLite, then the `pg_api` on PostgreSQL (marked `postgres`)."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
    api: Api = request.getfixturevalue("api" if request.param == "sqlite" else "pg_api")
    return api
