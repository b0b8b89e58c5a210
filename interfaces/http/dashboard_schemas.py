"""Response schemas of the owner dashboard and the admin analytics. Money is always
`{amount, currency}` in integer minor units, one entry per currency."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class MoneyPublic(BaseModel):
    amount: int = Field(description="Integer minor units (cents).")
    currency: str


class RevenuePublic(BaseModel):
    """One currency's money. gross = net + fees; all net of refunds."""

    currency: str
    gross: MoneyPublic = Field(description="What renters paid, less what was refunded.")
    fees: MoneyPublic = Field(description="The platform's fees, less fees refunded.")
    net: MoneyPublic = Field(description="The owner's earnings: gross minus fees.")
    paid_out: MoneyPublic = Field(description="Transfers to the owner's bank in the range.")


class OccupancyPublic(BaseModel):
    per: str = Field(description="night, day or hour: what one unit of time is.")
    units: int = Field(description="Identical units the listing has.")
    booked: int = Field(description="Units x nights/days/open hours reserved in the range.")
    available: int = Field(description="Units x nights/days/open hours not blocked.")
    rate: float = Field(description="booked / available (0 when nothing was available).")


class RatingPublic(BaseModel):
    count: int
    average: float


class ListingDashboardPublic(BaseModel):
    listing_id: UUID
    title: str
    category: str
    city: str
    occupancy: OccupancyPublic | None
    revenue: list[RevenuePublic]
    rating: RatingPublic


class PendingRequestsPublic(BaseModel):
    count: int
    data: list[dict[str, Any]] = Field(description="The first to expire (bookings).")


class UpcomingPublic(BaseModel):
    check_ins: list[dict[str, Any]] = Field(description="Confirmed, starting from today.")
    check_outs: list[dict[str, Any]] = Field(description="Staying, ending from today.")


class PayoutsPublic(BaseModel):
    paid: list[MoneyPublic] = Field(description="Paid out in the range, per currency.")
    to_come: list[MoneyPublic] = Field(
        description="The owner's share of paid bookings not yet paid out (any date)."
    )


class DashboardPublic(BaseModel):
    owner_id: UUID
    from_: date = Field(alias="from")
    to: date
    revenue: list[RevenuePublic] = Field(description="All listings, per currency.")
    listings: list[ListingDashboardPublic]
    upcoming: UpcomingPublic
    pending_requests: PendingRequestsPublic
    payouts: PayoutsPublic
    rating: RatingPublic = Field(description="Over every review of the owner's listings.")


class TakeRatePublic(BaseModel):
    currency: str
    rate: float = Field(description="Platform fees / GMV, rounded to 4 decimals.")


class FiguresPublic(BaseModel):
    gmv: list[MoneyPublic] = Field(description="Gross merchandise value, net of refunds.")
    fees: list[MoneyPublic] = Field(description="Platform fee revenue, net of refunds.")
    take_rate: list[TakeRatePublic]
    owner_net: list[MoneyPublic]
    processor_fees: list[MoneyPublic]
    bookings: int = Field(description="Bookings placed.")
    cancellations: int = Field(description="Bookings cancelled (after placement).")
    disputes: int = Field(description="Disputes opened.")
    new_listings: int = Field(description="Listings created.")
    new_users: int | None = Field(
        default=None, description="Users registered (totals and buckets only)."
    )


class BucketPublic(FiguresPublic):
    start: date = Field(description="First day of the day, ISO week (Monday) or month.")


class CategoryFiguresPublic(FiguresPublic):
    category: str


class CityFiguresPublic(FiguresPublic):
    city: str
    country: str


class AnalyticsPublic(BaseModel):
    from_: date = Field(alias="from")
    to: date
    granularity: str
    totals: FiguresPublic
    buckets: list[BucketPublic]
    by_category: list[CategoryFiguresPublic]
    by_city: list[CityFiguresPublic]
