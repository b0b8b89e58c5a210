"""`/admin/ledger/*` over a running app (SQLite, in-process workers): the ledger process and
the ledger views follow payment events recorded in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.ledger import PROCESSOR_BALANCE, owner_payable
from domain.money import Money
from domain.payment import Payment
from tests.application.test_ledger_process import forged_entry, quote
from tests.http.conftest import API, Api
from tests.polling import eventually

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def paid_stay(api: Api, owner_id: UUID) -> Payment:
    """A booking's money: charge captured with a deposit hold, part of the deposit captured
    for damage and the rest released, a partial refund, the owner paid out."""
    payment = Payment.open(uuid4(), owner_id, uuid4(), quote(40_000), eur(20_000), uuid4(), AT)
    payment.capture_charge("evt_cap", "pi_1", eur(40_000), eur(1_190), AT)
    payment.authorize_deposit("evt_da", "pi_d", eur(20_000), AT)
    payment.record_deposit_captured("evt_dc", "pi_d", eur(5_000), eur(0), AT)
    payment.record_deposit_released("evt_dr", AT)
    payment.request_refund("goodwill", eur(4_000), "late check-in", uuid4(), "admin", AT)
    payment.record_refund_succeeded("evt_rs", "re_1", eur(4_000), AT, refund_id="goodwill")
    payment.record_transfer_sent("evt_ts", "tr_1", eur(20_000), AT)
    api.container.store.record(payment)
    return payment


def settled(api: Api) -> dict[str, str]:
    """Waits for the ledger process and the ledger view; the header for reads after."""
    store, ledger = api.container.store, api.container.ledger
    assert ledger is not None

    def caught_up() -> bool:
        if ledger.position() >= store.current_position():
            return True
        ledger.catch_up()
        return False

    eventually(caught_up, "the ledger caught up", interval=0)
    return {"X-Rentbook-Min-Position": str(store.current_position())}


def get(api: Api, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = api.client.get(f"{API}/admin/ledger{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_admin_sees_balances_entries_and_a_verified_ledger(api: Api) -> None:
    admin = api.admin()
    owner_id = uuid4()
    payment = paid_stay(api, owner_id)
    wait = settled(api)
    headers = {**admin.headers, **wait}

    verified = get(api, "/verify", headers)
    owner = get(api, "/accounts", headers, owner_id=str(owner_id))["data"]
    entries = get(api, "/entries", headers, booking_id=str(payment.booking_id))
    by_account = get(api, "/entries", headers, account=PROCESSOR_BALANCE, limit=2)

    assert verified["balanced"] is True
    assert verified["derived_matches_recorded"] is True
    assert verified["entries"] == verified["derived_entries"] == 7
    assert verified["total_debits"] == verified["total_credits"]
    assert verified["recorded_hash"] == verified["derived_hash"]
    # 40,000 - 1,190 - 4,000 (refund) + 5,000 (deposit) - 20,000 (payout) kept by the owner:
    # owner share 34,000 - refund share 3,400 + deposit 5,000 - paid 20,000 = 15,600 payable.
    assert owner == [
        {
            "account": owner_payable(owner_id),
            "currency": "EUR",
            "owner_id": str(owner_id),
            "debits": 3_400 + 20_000,
            "credits": 34_000 + 5_000,
            "balance": -15_600,
            "entries": 4,
        }
    ]
    assert [e["source_type"] for e in entries["data"]] == [
        "Payment.ChargeCaptured",
        "Payment.DepositAuthorized",
        "Payment.DepositCaptured",
        "Payment.DepositReleased",
        "Payment.RefundRequested",
        "Payment.RefundSucceeded",
        "Payment.TransferSent",
    ]
    assert entries["next_cursor"] is None
    assert len(by_account["data"]) == 2 and by_account["next_cursor"]
    rest = get(
        api, "/entries", headers, account=PROCESSOR_BALANCE, cursor=by_account["next_cursor"]
    )
    assert (
        len(rest["data"]) == 2 and rest["next_cursor"] is None
    )  # capture, deposit, refund, payout


def test_verify_is_false_once_an_entry_no_payment_made_is_recorded(api: Api) -> None:
    admin = api.admin()
    paid_stay(api, uuid4())
    settled(api)
    forged = forged_entry()
    api.container.store.record(forged)

    verified = get(api, "/verify", admin.headers)

    assert verified["balanced"] is True
    assert verified["derived_matches_recorded"] is False
    assert verified["unexpected"] == [str(forged.id)]
    assert verified["recorded_hash"] != verified["derived_hash"]


def test_accounts_page_and_filter(api: Api) -> None:
    admin = api.admin()
    paid_stay(api, uuid4())
    paid_stay(api, uuid4())
    headers = {**admin.headers, **settled(api)}

    first = get(api, "/accounts", headers, limit=3)
    second = get(api, "/accounts", headers, limit=3, cursor=first["next_cursor"])
    liabilities = get(api, "/accounts", headers, prefix="liabilities:", currency="EUR")["data"]

    assert len(first["data"]) == 3 and first["next_cursor"]
    assert not {a["account"] for a in first["data"]} & {a["account"] for a in second["data"]}
    assert len(liabilities) == 3  # two owners' payables and refunds payable
    assert all(a["account"].startswith("liabilities:") for a in liabilities)


def test_ledger_endpoints_are_for_admins_only(api: Api) -> None:
    user = api.new_user()
    for path in ("/accounts", "/entries", "/verify"):
        assert api.client.get(f"{API}/admin/ledger{path}").status_code == 401
        r = api.client.get(f"{API}/admin/ledger{path}", headers=user.headers)
        assert r.status_code == 403


def test_a_forged_cursor_is_a_problem(api: Api) -> None:
    admin = api.admin()
    for path in ("/accounts", "/entries"):
        r = api.client.get(
            f"{API}/admin/ledger{path}", headers=admin.headers, params={"cursor": "Zm9vYmFy"}
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
