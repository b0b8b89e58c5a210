"""A fresh PostgreSQL database owned by an owner role, plus an application role, both
unique to the test and dropped after it. Import `split_roles_fixture` to use `split_roles`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL


@dataclass(frozen=True)
class SplitRoles:
    owner_url: str
    app_url: str
    owner: str
    app: str


def _url(role: str, dbname: str) -> str:
    host = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{role}@{host}/{dbname}"


@contextmanager
def split_roles_database() -> Iterator[SplitRoles]:
    """Creates the owner and application roles and the owner's database; drops them after."""
    suffix = uuid.uuid4().hex[:10]
    owner, app, dbname = f"rb_owner_{suffix}", f"rb_app_{suffix}", f"rentbook_t_{suffix}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        conn.execute(f'CREATE ROLE "{app}" LOGIN')
        conn.execute(f'CREATE DATABASE "{dbname}" OWNER "{owner}"')
    try:
        yield SplitRoles(_url(owner, dbname), _url(app, dbname), owner, app)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{app}"')
            conn.execute(f'DROP ROLE IF EXISTS "{owner}"')


@pytest.fixture(name="split_roles")
def split_roles_fixture() -> Iterator[SplitRoles]:
    with split_roles_database() as roles:
        yield roles
