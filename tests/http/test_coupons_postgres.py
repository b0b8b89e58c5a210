"""Coupons on PostgreSQL + Redis (rq jobs): the same flows as on the embedded default —
limits, a cancellation giving the redemption back, the welcome coupon issued by an rq job,
and the ledger showing who funded each discount."""

from __future__ import annotations

import pytest

from tests.http import test_coupons_http as flows
from tests.http.conftest import Api

pytestmark = pytest.mark.postgres


def test_limits_and_give_backs_on_postgres(pg_api: Api) -> None:
    flows.test_a_booking_redeems_its_coupon_and_the_limits_hold(pg_api)
    flows.test_a_booking_cancelled_before_its_start_gives_the_redemption_back(pg_api)
    flows.test_each_refusal_has_its_own_code(pg_api)


def test_owner_and_welcome_coupons_on_postgres(pg_api: Api) -> None:
    flows.test_owners_make_coupons_for_their_own_listings_only(pg_api)
    flows.test_signing_up_issues_a_personal_welcome_coupon_once(pg_api)


def test_the_ledger_shows_who_funded_the_discount_on_postgres(pg_api: Api) -> None:
    flows.test_the_ledger_shows_who_funded_the_discount(pg_api)
