"""Every read model the projection workers run, in one list."""

from __future__ import annotations

from projections.analytics import AnalyticsView
from projections.audit import AuditView
from projections.availability import AvailabilityView
from projections.base import Projection
from projections.bookings import BookingsView
from projections.calendar_feeds import CalendarFeedsView
from projections.conversations import ConversationsView
from projections.coupons import CouponsView
from projections.deadlines import DeadlinesView
from projections.disputes import DisputesView
from projections.ledger import LedgerView
from projections.listings import ListingsView
from projections.media import MediaView
from projections.notifications import NotificationsView
from projections.orders import OrdersView
from projections.payments import PaymentsView
from projections.profiles import ProfilesView
from projections.review_deadlines import ReviewDeadlinesView
from projections.reviews import ReviewsView
from projections.search_documents import SearchDocumentsView
from projections.wishlists import WishlistsView


def all_projections() -> list[Projection]:
    return [
        ListingsView(),
        BookingsView(),
        AvailabilityView(),
        DeadlinesView(),
        PaymentsView(),
        DisputesView(),
        AuditView(),
        SearchDocumentsView(),
        LedgerView(),
        MediaView(),
        ReviewsView(),
        ReviewDeadlinesView(),
        ProfilesView(),
        ConversationsView(),
        AnalyticsView(),
        CouponsView(),
        NotificationsView(),
        WishlistsView(),
        CalendarFeedsView(),
        OrdersView(),
    ]
