"""The admin's pages over HTTP: every one is 403 for a non-admin and 200 for an admin; the
disputes queue leads to a dispute whose resolution form keeps its input when refused and
resolves through the disputes use case; projections show their lag and rebuild; users are
found by email; any stream has an audit timeline; coupons are created platform-funded."""

from __future__ import annotations

from tests.http.test_disputes_http import EndedFactory, ended  # noqa: F401 - the fixture
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views

ADMIN_PAGES = (
    "/admin/disputes",
    "/admin/users?q=someone",
    "/admin/projections",
    "/admin/ledger",
    "/admin/ledger?verify=1",
    "/admin/analytics",
    "/admin/analytics?granularity=month",
    "/admin/coupons",
)


def test_admin_pages_are_for_admins_only(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.register()
    token = browser_login(api.client, renter["email"])
    for path in (*ADMIN_PAGES, f"/admin/audit/{listing_id}"):
        assert api.client.get(path).status_code == 403, path
    for path in ("/admin/projections/listings/rebuild", "/admin/coupons"):
        assert api.client.post(path, data={"csrf_token": token}).status_code == 403, path
    admin = api.admin()
    browser_login(api.client, admin.email)
    for path in (*ADMIN_PAGES, f"/admin/audit/{listing_id}"):
        r = api.client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    verified = api.client.get("/admin/ledger?verify=1")
    assert 'id="verdict">Balanced' in verified.text


def test_analytics_checks_its_range_and_granularity(api: Api) -> None:
    admin = api.admin()
    browser_login(api.client, admin.email)
    r = api.client.get("/admin/analytics", params={"granularity": "hour"})
    assert r.status_code == 422 and 'id="e-granularity"' in r.text
    r = api.client.get("/admin/analytics", params={"from": "2025-01-01", "to": "2027-01-01"})
    assert r.status_code == 422 and 'id="e-to"' in r.text and 'value="2025-01-01"' in r.text
    r = api.client.get(
        "/admin/analytics",
        params={"from": "2025-01-01", "to": "2027-01-01", "granularity": "month"},
    )
    assert r.status_code == 200 and r.text.count("<tr><td>20") >= 24  # one row per month


def test_an_admin_resolves_a_dispute_from_the_queue(ended: EndedFactory) -> None:  # noqa: F811
    e = ended()
    dispute = e.opened()
    api = e.api
    wait = {"X-Rentbook-Min-Position": str(api.container.store.current_position())}
    api.client.get(f"{API}/admin/disputes", headers={**e.m.admin.headers, **wait})
    token = browser_login(api.client, e.m.admin.email)
    queue = api.client.get("/admin/disputes")
    assert f'href="/admin/disputes/{dispute["id"]}"' in queue.text
    page = api.client.get(f"/admin/disputes/{dispute['id']}")
    assert "The sofa has a burn mark." in page.text and "https://example.com/sofa.jpg" in page.text
    url = f"/admin/disputes/{dispute['id']}/resolve"
    form = {"csrf_token": token, "outcome": "split", "refund": "50", "deposit": "zero"}
    r = api.client.post(url, data=form)
    assert r.status_code == 422 and 'id="e-deposit"' in r.text and 'id="e-note"' in r.text
    assert 'value="50"' in r.text and 'value="zero"' in r.text
    r = api.client.post(url, data={**form, "deposit": "99999", "note": "Half each."})
    assert r.status_code == 422 and 'role="alert"' in r.text  # beyond the deposit held
    assert api.client.post(url, data={**form, "csrf_token": "", "deposit": ""}).status_code == 403
    r = api.client.post(url, data={**form, "deposit": "100", "note": "Half each."})
    assert r.status_code == 200, r.text
    seen = api.client.get(f"{API}/disputes/{dispute['id']}", headers=e.m.admin.headers).json()
    assert seen["status"] == "resolved" and seen["resolution"]["outcome"] == "split"
    moved = {c[0] for c in e.spy.calls}  # the money went through the payment commands
    assert {"refund", "capture_deposit"} <= moved


def test_projections_show_their_lag_and_rebuild(api: Api) -> None:
    admin = api.admin()
    token = browser_login(api.client, admin.email)
    page = api.client.get("/admin/projections")
    assert 'data-name="listings"' in page.text and "data-lag=" in page.text
    r = api.client.post("/admin/projections/listings/rebuild", data={"csrf_token": token})
    assert r.status_code == 200 and "Rebuilt listings." in r.text
    r = api.client.post("/admin/projections/nope/rebuild", data={"csrf_token": token})
    assert r.status_code == 404


def test_users_are_found_and_any_stream_has_an_audit_timeline(api: Api) -> None:
    owner = api.new_user(name="Findable Person")
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    wait = {"X-Rentbook-Min-Position": str(position)}  # the name search reads the profiles view
    assert api.client.get(f"{API}/users/{owner.id}", headers=wait).status_code == 200
    admin = api.admin()
    browser_login(api.client, admin.email)
    r = api.client.get("/admin/users", params={"q": owner.email})
    assert f'data-id="{owner.id}"' in r.text
    r = api.client.get("/admin/users", params={"q": "indable pers"})
    assert f'data-id="{owner.id}"' in r.text
    r = api.client.get("/admin/audit", params={"id": listing_id}, follow_redirects=True)
    assert r.status_code == 200 and "Listing audit" in r.text and "Approved" in r.text
    r = api.client.get(f"/admin/audit/{listing_id}", params={"version": "1"})
    assert 'id="state-version">1<' in r.text
    r = api.client.get(f"/admin/audit/{listing_id}", params={"at": "2000-01-01T00:00"})
    assert r.status_code == 422 and "did not exist yet" in r.text
    assert api.client.get("/admin/audit", params={"id": "nope"}).status_code == 404


def test_an_admin_creates_a_platform_coupon_and_an_owner_funded_one_needs_its_owner(
    api: Api,
) -> None:
    admin = api.admin()
    token = browser_login(api.client, admin.email)
    form = {
        "csrf_token": token, "code": "PLATFORM5", "kind": "fixed", "value": "5",
        "currency": "EUR", "scope": "all", "funded_by": "owner", "owner_id": "",
    }  # fmt: skip
    r = api.client.post("/admin/coupons", data=form)
    assert r.status_code == 422 and 'id="e-owner_id"' in r.text
    r = api.client.post("/admin/coupons", data={**form, "funded_by": "platform"})
    assert r.status_code == 200 and 'data-code="PLATFORM5"' in r.text and "€5.00 off" in r.text
    coupons = api.client.get(f"{API}/admin/coupons", headers=admin.headers).json()["data"]
    coupon = next(c for c in coupons if c["code"] == "PLATFORM5")
    assert coupon["funded_by"] == "platform"
    r = api.client.post(f"/admin/coupons/{coupon['id']}/deactivate", data={"csrf_token": token})
    assert r.status_code == 200 and "Ended" in r.text
