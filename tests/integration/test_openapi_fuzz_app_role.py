"""Schemathesis over every operation with the application role on PostgreSQL (issue #10:
"Schemathesis still passes over every operation with the application role"): the log's
owner migrates, the API connects as a role that may only INSERT and SELECT the event tables,
and no operation answers 500 — nothing the API does needs UPDATE, DELETE or TRUNCATE there.

Fewer examples per operation than the embedded-default fuzz (tests/http/test_openapi_fuzz.py,
which also runs the coverage phase and both roles): this one is about the role, and every
operation still gets schema-valid and schema-violating requests with the same checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from infrastructure.bootstrap import build_container
from infrastructure.db_roles import log_tables, migrate
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, Api, https_client, make_app
from tests.http.test_openapi_fuzz import OPENAPI_PATH, OPERATIONS, Fuzz, _exercise
from tests.integration.log_roles import SplitRoles, split_roles_database

pytestmark = pytest.mark.postgres
EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}


@pytest.fixture(scope="module")
def roles() -> Iterator[SplitRoles]:
    with split_roles_database() as made:
        yield made


@pytest.fixture(scope="module")
def fuzz(roles: SplitRoles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    owner_settings = Settings(
        environment="test",
        database_url=roles.app_url,
        migration_database_url=roles.owner_url,
        data_dir=Path(tmp_path_factory.mktemp("fuzz-app-role")) / "var",
        postgres_pool_size=2,
        postgres_max_overflow=4,
    )
    assert migrate(owner_settings) == roles.app
    # As in the compose file: the application's processes never see the owner's URL.
    app_settings = owner_settings.model_copy(
        update={"migration_database_url": None, "create_event_tables": False}
    )
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    container = build_container(app_settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.start_workers(scheduler_interval=0.5)
    try:
        with https_client(make_app(container)) as client:
            yield Fuzz(Api(client, container, clock))
    finally:
        container.close()


@pytest.fixture(scope="module")
def schema(fuzz: Fuzz) -> Any:
    return schemathesis.openapi.from_asgi(OPENAPI_PATH, fuzz.api.app)


@pytest.fixture(autouse=True)
def _asgi_lifespans_end_with_each_test() -> Iterator[None]:
    # What schemathesis' pytest plugin did after every test; the plugin is off (pyproject's
    # `-p no:schemathesis`: nothing here uses it, and every pytest process paid its import).
    yield
    shutdown_lifespans()


def test_the_application_role_cannot_change_the_log(roles: SplitRoles, fuzz: Fuzz) -> None:
    with (
        psycopg.connect(roles.app_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(f"DELETE FROM {log_tables()[0]}")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_never_answers_500_as_the_application_role(
    fuzz: Fuzz, schema: Any, method: str, path: str
) -> None:
    operation = schema[path][method]
    who = fuzz.admin if path.startswith("/api/v1/admin") else fuzz.user

    def run(mode: GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 5))
        def fuzz_one(case: Any, pick: int) -> None:
            _exercise(fuzz, case, who, pick)

        fuzz_one()

    run(GenerationMode.POSITIVE)
    try:
        run(GenerationMode.NEGATIVE)
    except Unsatisfiable:  # nothing can violate the schema (see the embedded-default fuzz)
        assert not operation.definition.raw.get("requestBody")
