"""GET /admin/audit/verify: admins only; ok on an untouched log; names the edited event."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from infrastructure.audit_log import seal_checkpoint
from infrastructure.db_roles import log_tables
from infrastructure.event_log import open_event_log
from tests.http.conftest import API, Api
from tests.http.test_bookings_http import open_listing

VERIFY = f"{API}/admin/audit/verify"


def test_verify_is_for_admins_only(api: Api) -> None:
    assert api.client.get(VERIFY).status_code == 401
    assert api.client.get(VERIFY, headers=api.new_user().headers).status_code == 403


def test_an_untouched_log_verifies_with_its_checkpoint(api: Api) -> None:
    admin = api.admin()
    open_listing(api, api.new_user(), admin)
    with open_event_log(api.container.settings) as log:
        assert seal_checkpoint(log) is not None
    r = api.client.get(VERIFY, headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["broken"] is None
    assert body["checkpoints_checked"] == 1
    assert body["events_checked"] == body["log_position"] == api.container.store.current_position()


def _listing_event(api: Api, listing_id: str, version: int) -> int:
    with open_event_log(api.container.settings) as log:
        rows = log.page(0, 10_000)
    return next(
        r.notification_id for r in rows if str(r.stream_id) == listing_id and r.version == version
    )


def test_an_edited_event_is_named_on_sqlite(api: Api) -> None:
    admin = api.admin()
    listing_id = open_listing(api, api.new_user(), admin)
    position = _listing_event(api, listing_id, 2)
    with sqlite3.connect(api.container.settings.data_dir / "events.db") as conn:
        conn.execute(
            "UPDATE stored_events SET topic = 'domain.listing:Listing.Rejected' "
            "WHERE originator_id = ? AND originator_version = 2",
            (listing_id.replace("-", ""),),
        )
    body = api.client.get(VERIFY, headers=admin.headers).json()
    assert body["ok"] is False
    assert body["broken"] == {
        "reason": "hash_mismatch",
        "notification_id": position,
        "stream_id": listing_id,
        "version": 2,
        "checkpoint_id": None,
    }


@pytest.mark.parametrize("column", ["state", "originator_version"])
def test_an_edited_event_is_named_on_postgres(pg_api: Api, column: str) -> None:
    admin = pg_api.admin()
    listing_id = open_listing(pg_api, pg_api.new_user(), admin)
    position = _listing_event(pg_api, listing_id, 3)
    change = "state || '\\x20'::bytea" if column == "state" else "originator_version + 100"
    with psycopg.connect(pg_api.container.settings.database_url or "", autocommit=True) as conn:
        conn.execute(
            f"UPDATE {log_tables()[0]} SET {column} = {change} "
            "WHERE originator_id = %s AND originator_version = 3",
            (listing_id,),
        )
    body = pg_api.client.get(VERIFY, headers=admin.headers).json()
    assert body["ok"] is False
    reason = "hash_mismatch" if column == "state" else "version_gap"
    assert body["broken"]["reason"] == reason
    assert body["broken"]["notification_id"] == position
    assert body["broken"]["stream_id"] == listing_id
