"""A listing recorded by the v1 Listing class (one grace for both ends of a stay), stored
byte for byte, reads back as v2 (check-in and check-out grace hours) through every view
after a rebuild, through time travel (by version, from its v1 snapshot, and by instant),
and through the stays it governs; the log's hash chain still verifies, since upcasting
happens on read and the stored bytes never change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from infrastructure.settings import get_settings
from interfaces.cli.main import app as cli
from tests.http.conftest import API, Api
from tests.stored_v1 import GRACE_AT_VERSION, LISTING_ID, insert_v1_listing

LISTING = f"{API}/listings/{LISTING_ID}"
CREATED_AT = datetime(2026, 12, 4, 12, tzinfo=UTC)


def graces(spec: dict[str, object]) -> tuple[object, object]:
    return spec["check_in_grace_hours"], spec["check_out_grace_hours"]


def test_a_v1_listing_reads_as_v2_through_every_view_after_a_rebuild(api: Api) -> None:
    reads_as_v2_through_every_view(api)


def test_a_v1_listing_reads_as_v2_and_verifies_on_postgres(pg_api: Api) -> None:
    reads_as_v2_through_every_view(pg_api)
    admin = pg_api.admin()
    url = f"{API}/admin/streams/{LISTING_ID}/state"
    r = pg_api.client.get(url, params={"version": 2}, headers=admin.headers)  # v1 snapshot
    assert r.status_code == 200 and graces(r.json()["state"]["spec"]) == (12, 12)
    body = pg_api.client.get(f"{API}/admin/audit/verify", headers=admin.headers).json()
    assert body["ok"] is True and body["broken"] is None


def reads_as_v2_through_every_view(api: Api) -> None:
    position = insert_v1_listing(api.container.store)
    api.container.runner.rebuild_all()
    wait = {"X-Rentbook-Min-Position": str(position)}

    r = api.client.get(LISTING, headers=wait)
    assert r.status_code == 200, r.text
    listing = r.json()
    assert listing["status"] == "active" and listing["version"] == 4
    assert listing["listing"]["title"] == "Harbour loft, river view"
    assert graces(listing["listing"]) == (12, 12)

    start = datetime.now(UTC).date() + timedelta(days=30)
    period = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}
    days = api.client.get(f"{LISTING}/calendar", params=period, headers=wait).json()
    assert [d["price"]["amount"] for d in days] == [10_000, 10_000], days

    search = api.client.get(f"{API}/search/listings", params={"q": "harbour"}, headers=wait)
    assert search.status_code == 200, search.text
    assert str(LISTING_ID) in [hit["id"] for hit in search.json()["data"]]


def test_time_travel_shows_the_upcast_state_at_each_version_and_instant(api: Api) -> None:
    insert_v1_listing(api.container.store)  # with its v1 snapshot at version 2
    admin = api.admin()
    url = f"{API}/admin/streams/{LISTING_ID}/state"
    for version, grace in GRACE_AT_VERSION.items():
        r = api.client.get(url, params={"version": version}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == version
        assert graces(r.json()["state"]["spec"]) == (grace, grace)
    now = api.client.get(url, headers=admin.headers).json()
    assert now["type"] == "Listing" and graces(now["state"]["spec"]) == (12, 12)
    at = api.client.get(url, params={"at": datetime.now(UTC).isoformat()}, headers=admin.headers)
    assert at.status_code == 200 and graces(at.json()["state"]["spec"]) == (12, 12)


def test_the_log_still_verifies_after_reading_and_extending_a_v1_stream(api: Api) -> None:
    insert_v1_listing(api.container.store)
    owner = api.container.store.repository.get(LISTING_ID).owner_id
    listing = api.container.store.repository.get(LISTING_ID)
    listing.update({"check_out_grace_hours": 3}, owner, CREATED_AT)  # a v2 event after v1 ones
    api.container.store.record(listing)
    api.container.runner.rebuild_all()

    admin = api.admin()
    body = api.client.get(f"{API}/admin/audit/verify", headers=admin.headers).json()
    assert body["ok"] is True and body["broken"] is None
    assert body["events_checked"] == api.container.store.current_position()

    settings = api.container.settings
    env = {"RENTBOOK_DATA_DIR": str(settings.data_dir), "RENTBOOK_ENVIRONMENT": "test"}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith(f"ok: {body['events_checked']} events")
    assert graces(api.container.store.repository.get(LISTING_ID).spec) == (12, 3)
