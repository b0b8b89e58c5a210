"""`GET /admin/ledger/verify` against the ledger's own position: a ledger merely behind the
log is not a mismatch (it reports its lag); a real mismatch still is. On the embedded default
and on PostgreSQL (`any_api`)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.money import Money
from domain.payment import Payment
from tests.application.test_ledger_process import forged_entry, quote
from tests.http.conftest import API, Api
from tests.http.test_admin_ledger_http import settled
from tests.http.test_notifications_http import any_api  # noqa: F401 (a fixture)

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def paid_payment() -> Payment:
    """A payment whose charge was captured: one journal entry's worth."""
    eur = Money(40_000, "EUR")
    payment = Payment.open(uuid4(), uuid4(), uuid4(), quote(40_000), None, uuid4(), AT)
    payment.capture_charge("evt_cap", "pi_1", eur, Money(1_190, "EUR"), AT)
    return payment


def test_verify_right_after_a_payment_reports_lag_not_a_mismatch(any_api: Api) -> None:  # noqa: F811
    api = any_api
    admin = api.admin()
    settled(api)
    ledger = api.container.ledger
    assert ledger is not None
    with ledger._lock:  # the ledger process cannot take its next page while we look
        before = ledger.position()
        position = api.container.store.record(paid_payment())
        behind = api.client.get(f"{API}/admin/ledger/verify", headers=admin.headers)
    settled(api)
    caught_up = api.client.get(f"{API}/admin/ledger/verify", headers=admin.headers)

    assert behind.status_code == 200, behind.text
    report = behind.json()
    assert report["derived_matches_recorded"] is True and report["balanced"] is True
    assert report["ledger_position"] == before and report["log_position"] >= position
    assert report["lag"] == report["log_position"] - before > 0
    assert report["missing"] == []
    done = caught_up.json()
    assert done["derived_matches_recorded"] is True and done["lag"] == 0
    assert done["entries"] == report["entries"] + 1


def test_verify_still_catches_a_forged_entry_while_the_ledger_lags(any_api: Api) -> None:  # noqa: F811
    api = any_api
    admin = api.admin()
    ledger = api.container.ledger
    assert ledger is not None
    with ledger._lock:
        api.container.store.record(paid_payment())
        forged = forged_entry()
        api.container.store.record(forged)
        report = api.client.get(f"{API}/admin/ledger/verify", headers=admin.headers).json()

    assert report["lag"] > 0
    assert report["derived_matches_recorded"] is False
    assert report["unexpected"] == [str(forged.id)]
