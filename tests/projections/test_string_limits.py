"""Every bounded view column fed from user or processor input holds its longest value.

An over-long string is refused on every PostgreSQL write path (`bulk.array_cast`): the view
would stop at that event. So each source is bounded, at the API or in the domain, no higher
than the columns it feeds; this table says which source feeds which column."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from sqlalchemy import String

from domain.calendar_feed import MAX_FEED_NAME
from domain.listing_spec import ListingSpec, Location
from domain.profile import MAX_LANGUAGES
from domain.user import MAX_NAME_LENGTH
from domain.wishlist import MAX_NAME as MAX_WISHLIST_NAME
from interfaces.http.calendar_sync_schemas import CalendarFeedCreate
from interfaces.http.coupon_schemas import CouponCreate
from interfaces.http.identity import UserCreate, UserUpdate
from interfaces.http.problems import SAFE_REQUEST_ID
from interfaces.http.wishlist_schemas import WishlistCreate, WishlistUpdate
from projections.analytics import AnalyticsView
from projections.audit import AuditView
from projections.availability import AvailabilityView
from projections.base import Projection, new_metadata
from projections.calendar_feeds import CalendarFeedsView
from projections.coupons import CouponsView
from projections.listings import ListingsView
from projections.notifications import NotificationsView
from projections.payments import PaymentsView
from projections.profiles import ProfilesView
from projections.search_documents_view import SearchDocumentsView
from projections.wishlists import WishlistsView


def _max_length(model: type[BaseModel], field: str) -> int:
    found = [m.max_length for m in model.model_fields[field].metadata if isinstance(m, MaxLen)]
    assert found, f"{model.__name__}.{field} has no max_length"
    return found[0]


def _column_length(view: type[Projection], table: str, column: str) -> int:
    type_ = view().define_tables(new_metadata(), "")[table].c[column].type
    assert isinstance(type_, String) and type_.length is not None
    return type_.length


_TITLE = _max_length(ListingSpec, "title")
_CITY = _max_length(Location, "city")
_EMAIL = _max_length(UserCreate, "email")
_USER_NAME = max(_max_length(UserCreate, "name"), _max_length(UserUpdate, "name"))
# validate_timezone accepts only (some of) zoneinfo's IANA names
_TIMEZONE = max(len(z) for z in available_timezones())
# the processor's own ids: Stripe documents them as at most 255 characters
_STRIPE_ID = 255
# a profile's languages are stored comma-separated: at most MAX_LANGUAGES codes of 2 letters
_LANGUAGES = MAX_LANGUAGES * 3 - 1

# (view, table, column, the longest value its source accepts, where that bound is)
SOURCES: list[tuple[type[Projection], str, str, int, str]] = [
    (ListingsView, "listings", "title", _TITLE, "ListingSpec.title"),
    (ListingsView, "listings", "city", _CITY, "Location.city"),
    (SearchDocumentsView, "documents", "title", _TITLE, "ListingSpec.title"),
    (SearchDocumentsView, "documents", "city", _CITY, "Location.city"),
    (AnalyticsView, "listings", "title", _TITLE, "ListingSpec.title"),
    (AnalyticsView, "listings", "city", _CITY, "Location.city"),
    (NotificationsView, "bookings", "listing_title", _TITLE, "ListingSpec.title"),
    (NotificationsView, "listings", "title", _TITLE, "ListingSpec.title"),
    (NotificationsView, "users", "email", _EMAIL, "UserCreate.email"),
    (NotificationsView, "users", "name", _USER_NAME, "UserCreate/UserUpdate.name"),
    (NotificationsView, "users", "locale", 2, "clean_languages: ISO 639-1"),
    (NotificationsView, "outbox", "to_address", _EMAIL, "UserCreate.email"),
    (NotificationsView, "outbox", "name", _USER_NAME, "UserCreate/UserUpdate.name"),
    (NotificationsView, "outbox", "locale", 2, "clean_languages: ISO 639-1"),
    (ProfilesView, "profiles", "name", MAX_NAME_LENGTH, "domain.user.MAX_NAME_LENGTH"),
    (ProfilesView, "profiles", "languages", _LANGUAGES, "clean_languages, MAX_LANGUAGES"),
    (WishlistsView, "wishlists", "name", MAX_WISHLIST_NAME, "domain.wishlist.MAX_NAME"),
    (CalendarFeedsView, "calendar_feeds", "name", MAX_FEED_NAME, "MAX_FEED_NAME"),
    (AvailabilityView, "listings", "timezone", _TIMEZONE, "validate_timezone"),
    (NotificationsView, "bookings", "timezone", _TIMEZONE, "validate_timezone"),
    (NotificationsView, "listings", "timezone", _TIMEZONE, "validate_timezone"),
    (PaymentsView, "refs", "processor_id", _STRIPE_ID, "Stripe's ids"),
    (PaymentsView, "accounts", "account_id", _STRIPE_ID, "Stripe's ids"),
    (CouponsView, "coupons", "code", _max_length(CouponCreate, "code"), "CouponCreate.code"),
]


@pytest.mark.parametrize(
    ("view", "table", "column", "longest", "source"),
    SOURCES,
    ids=[f"{v.name}.{t}.{c}" for v, t, c, _, _ in SOURCES],
)
def test_a_view_column_holds_the_longest_value_its_source_accepts(
    view: type[Projection], table: str, column: str, longest: int, source: str
) -> None:
    assert longest <= _column_length(view, table, column), source


def test_the_api_bounds_agree_with_the_domain_bounds_they_restate() -> None:
    bounds: list[tuple[Any, int]] = [
        (_max_length(WishlistCreate, "name"), MAX_WISHLIST_NAME),
        (_max_length(WishlistUpdate, "name"), MAX_WISHLIST_NAME),
        (_max_length(CalendarFeedCreate, "name"), MAX_FEED_NAME),
        (_USER_NAME, MAX_NAME_LENGTH),
    ]
    assert all(api <= domain for api, domain in bounds)


@pytest.mark.parametrize("column", ["request_id", "correlation_id", "causation_id"])
def test_the_audit_view_holds_the_longest_request_id_a_client_may_send(column: str) -> None:
    # X-Request-ID becomes the request and correlation ids of the events it records
    length = _column_length(AuditView, "audit", column)
    assert SAFE_REQUEST_ID.match("r" * length)
    assert not SAFE_REQUEST_ID.match("r" * (length + 1))
