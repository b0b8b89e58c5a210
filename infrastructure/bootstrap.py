"""The composition root: builds every adapter from Settings and wires the use cases."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, partial
from typing import Any

import redis
from sqlalchemy.engine import Engine

from application.account_tokens import AccountTokens
from application.bookings import Bookings
from application.calendar_sync import CalendarSync
from application.calendar_sync import deadline_handlers as feed_handlers
from application.conversations import Conversations
from application.coupon_process import CouponProcess
from application.coupons import Coupons
from application.disputes import Disputes
from application.erasure import Erasure
from application.identity import Identity
from application.ledger import LedgerProcess
from application.link_tokens import LinkTokens
from application.listings import Listings
from application.mailer import Mailer
from application.media import MediaLibrary
from application.order_payments import OrderPayments
from application.orders import Orders
from application.payment_gateway import PaymentGateway
from application.payments import Payments
from application.places import Places
from application.ports import Clock, LoginFailureTracker, MediaCatalog, RateLimiter, SessionStore
from application.principal_cache import PrincipalCache, RevocationAwareSessions
from application.profiles import Profiles
from application.reminders import reminder_handlers
from application.reviews import Reviews, deadline_handlers
from application.scheduler import AllDeadlines, Scheduler
from application.search import SearchIndex
from application.search_sync import IndexSyncer
from application.stays import Stays
from application.store import EventStore
from application.tokens import TokenSigner
from application.user_cache import UserCache
from application.wishlists import Wishlists
from infrastructure import search_wakeup
from infrastructure.calendar_sync_wiring import build_calendar_sync, calendar_feed_source
from infrastructure.clock import OffsetClock, SystemClock
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.images import PillowImages
from infrastructure.live_wiring import build_live
from infrastructure.mail_logging import LoggingMailer
from infrastructure.mail_smtp import TransportMailer
from infrastructure.master_keys import master_keys
from infrastructure.media_catalog import EventStoreMediaCatalog
from infrastructure.media_files import FileMediaStore
from infrastructure.notifications_wiring import (
    NotificationsWiring,
    build_notifications,
    build_transport,
)
from infrastructure.passwords import Argon2Hasher
from infrastructure.payments_wiring import PaymentsWiring, build_payments
from infrastructure.personal_keys import CACHE_SECONDS as KEY_CACHE_SECONDS
from infrastructure.personal_keys import SqlKeyRing, personal_views
from infrastructure.places_offline import shared_places
from infrastructure.ratelimit import (
    InMemoryLoginFailures,
    InMemoryRateLimiter,
    RedisLoginFailures,
    RedisRateLimiter,
)
from infrastructure.review_deadlines import ViewReviewDeadlineSource
from infrastructure.search_wiring import build_search_index
from infrastructure.sessions import InMemorySessionStore, RedisSessionStore
from infrastructure.settings import Settings
from infrastructure.stream_notices import StreamNoticeListener, stream_notice_listener
from infrastructure.views_db import create_views_engine, views_overflow
from projections.coupons import booking_history
from projections.deadlines import ViewDeadlineSource
from projections.live_tailer import LiveTailer
from projections.registry import all_projections
from projections.reminder_deadlines import ViewReminderSource
from projections.runner import ProjectionRunner
from projections.search_documents import ViewSearchDocuments


@dataclass
class Container:
    settings: Settings
    clock: Clock
    store: EventStore
    views: Engine
    runner: ProjectionRunner
    identity: Identity
    sessions: SessionStore
    rate_limiter: RateLimiter
    listings: Listings
    bookings: Bookings
    payments: Payments
    gateway: PaymentGateway
    scheduler: Scheduler
    redis: redis.Redis | None = None
    search: SearchIndex | None = None
    search_syncer: IndexSyncer | None = None
    ledger: LedgerProcess | None = None
    places: Places = field(default_factory=shared_places)
    payments_wiring: PaymentsWiring | None = None
    media: MediaLibrary | None = None
    mailer: Mailer = field(default_factory=LoggingMailer)
    media_catalog: MediaCatalog | None = None  # listing, avatar, report and claim photos
    coupons: Coupons | None = None
    coupon_process: CouponProcess | None = None  # welcome coupons, redemptions given back
    notifications: NotificationsWiring | None = None  # in-app and email
    calendar_sync: CalendarSync | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _notices: StreamNoticeListener | None = None

    @cached_property
    def disputes(self) -> Disputes:
        return Disputes(self.store, self.bookings, self.payments, self.media_catalog)

    @cached_property
    def stays(self) -> Stays:
        return Stays(self.store, self.bookings, self.media_catalog)

    @cached_property
    def reviews(self) -> Reviews:
        return Reviews(self.store, self.bookings)

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self.store, self.bookings, self.media_catalog)

    @cached_property
    def orders(self) -> Orders:
        return Orders(self.store, self.bookings)

    @cached_property
    def order_payments(self) -> OrderPayments:
        return OrderPayments(self.orders, self.payments)

    @cached_property
    def erasure(self) -> Erasure:
        names = personal_views()  # repaired after an erasure: they hold personal data
        repair = partial(self.runner.repair_erasure, names)
        return Erasure(
            self.store, self.identity.hasher, self.sessions, repair, users=self.identity.users
        )

    @cached_property
    def profiles(self) -> Profiles:
        return Profiles(self.store, self.media_catalog)

    @cached_property
    def live(self) -> LiveTailer:
        """The log tail the SSE streams of this process share (started by the first)."""
        return build_live(self.store)

    @cached_property
    def wishlists(self) -> Wishlists:
        return Wishlists(self.store, self.listings, LinkTokens(self.settings.secret_key))

    @cached_property
    def account_tokens(self) -> AccountTokens:
        """Email verification and password reset."""
        signer = TokenSigner(self.settings.secret_key)
        hasher = self.identity.hasher
        public_url = self.settings.public_url
        return AccountTokens(self.store, hasher, self.sessions, self.mailer, signer, public_url)

    @property
    def runs_workers(self) -> bool:
        """Whether this process runs background workers (scheduler, syncer, ledger...)."""
        return bool(self._threads)

    def start_workers(self, *, scheduler_interval: float = 2.0) -> None:
        """In-process workers for the embedded default: projections and deadlines."""
        self.runner.start()
        thread = threading.Thread(
            target=self.scheduler.run_forever,
            args=(self.clock, self._stop, scheduler_interval),
            name="scheduler",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        self.start_search_sync()
        if self.payments_wiring is not None:  # payouts, reconciliation, rq jobs
            wiring = self.payments_wiring
            self._threads.append(wiring.start(self._stop, self.clock, scheduler_interval))
        self.start_ledger()
        self.start_coupon_process()
        self.start_notifications(scheduler_interval)
        # No preload of the city index here (~150 MB at its build's peak, when built): a
        # serving API worker builds it at start-up (`preload_places`), a process that
        # serves no /places request never does.

    def start_stream_notices(self) -> None:
        """An API worker's: hears which streams other processes wrote, so its placements
        read those first (`infrastructure/stream_notices.py`), and the projector's pages,
        so its read-your-writes waits end without polling. One connection; on PostgreSQL."""
        if self._notices is None:
            self._notices = stream_notice_listener(self.store, self.runner.positions_moved)
            if self._notices is not None:
                self._notices.start()

    def start_notifications(self, interval: float = 5.0) -> None:
        """Queues notification mail as the outbox fills (the jobs send it)."""
        if self.notifications is not None:
            self._threads.append(self.notifications.start(self._stop, interval))

    def start_ledger(self, interval: float = 0.5) -> None:
        """Records a journal entry for every payment event (the ledger process)."""
        if self.ledger is None:
            return
        thread = threading.Thread(
            target=self.ledger.run_forever,
            args=(self._stop, interval),
            name="ledger",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)

    def start_coupon_process(self) -> None:
        """Issues welcome coupons (as jobs) and gives back redemptions of bookings that did
        not go ahead (application/coupon_process.py)."""
        if self.coupon_process is None:
            return
        thread = threading.Thread(
            target=self.coupon_process.run_forever, args=(self._stop,), name="coupons"
        )
        thread.daemon = True
        thread.start()
        self._threads.append(thread)

    def start_search_sync(self, interval: float = 0.5, fallback_poll: float = 5.0) -> None:
        """Keeps the search index in step with the search_documents view: woken by each
        page of the view (`infrastructure/search_wakeup.py`), polling as a fallback."""
        if self.search_syncer is None:
            return
        thread = threading.Thread(
            target=self.search_syncer.run_forever,
            args=(self.clock, self._stop, interval, 60.0, fallback_poll),
            name="search-sync",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        listener = threading.Thread(
            target=search_wakeup.listen,
            args=(self.views, self.search_syncer, self._stop),
            name="search-sync-listen",
            daemon=True,
        )
        listener.start()
        self._threads.append(listener)

    def close(self) -> None:
        self._stop.set()
        self.store.wake_listeners()  # the ledger and coupon followers stop now, not in 0.5 s
        if self.search_syncer is not None:
            self.search_syncer.wake()
        self.runner.stop()
        if "live" in self.__dict__:
            self.live.stop()
        for thread in self._threads:
            thread.join(5)
        if self._notices is not None:
            self._notices.stop()
        if self.payments_wiring is not None:
            self.payments_wiring.jobs.close()
        self.store.close()
        self.views.dispose()
        if self.redis is not None:
            self.redis.close()


def _session_adapters(
    settings: Settings, clock: Clock
) -> tuple[SessionStore, RateLimiter, LoginFailureTracker, redis.Redis | None]:
    window = timedelta(minutes=settings.login_lockout_minutes)
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        prefix = settings.redis_key_prefix
        return (
            RedisSessionStore(client, prefix),
            RedisRateLimiter(client, prefix, clock),
            RedisLoginFailures(client, prefix, settings.login_max_failures, window, window),
            client,
        )
    return (
        InMemorySessionStore(),
        InMemoryRateLimiter(clock),
        InMemoryLoginFailures(settings.login_max_failures, window, window),
        None,
    )


def build_container(
    settings: Settings, *, clock: Clock | None = None, mailer: Mailer | None = None, **hasher: Any
) -> Container:
    # One movable clock for every component (scheduler, sessions, rate limits, payments,
    # search horizon): /dev/clock moves it outside production.
    clock = clock if isinstance(clock, OffsetClock) else OffsetClock(clock or SystemClock())
    views = create_views_engine(views_url(settings), max_overflow=views_overflow(settings))
    store = build_event_store(settings, SqlKeyRing(views, master_keys(settings)))
    runner = ProjectionRunner(
        store,
        views,
        all_projections(),
        batch_size=settings.projection_batch_size,
        catch_up_batch_size=settings.projection_catch_up_batch_size,
    )
    runner.setup()
    raw_sessions, limiter, failures, client = _session_adapters(settings, clock)
    principals = PrincipalCache(settings.principal_cache_seconds)
    sessions = RevocationAwareSessions(raw_sessions, principals)  # revoking forgets the cache
    identity = Identity(
        store,
        Argon2Hasher(**hasher),
        sessions,
        failures,
        session_ttl=timedelta(days=settings.session_ttl_days),
        principals=principals,
        users=UserCache(store, seconds=KEY_CACHE_SECONDS),  # no longer than keys are kept
    )
    fees = {
        "service_fee_bp": settings.renter_service_fee_bp,
        "commission_bp": settings.owner_commission_bp,
    }
    media_catalog = EventStoreMediaCatalog(store)
    coupons = Coupons(store, has_booked=booking_history(views, runner.tables("bookings")))
    listings = Listings(store, **fees, media=media_catalog, coupons=coupons)
    bookings = Bookings(
        store,
        **fees,
        coupons=coupons,
        hold_minutes=settings.payment_hold_minutes,
        request_hours=settings.request_expiry_hours,
    )
    payments_wiring = build_payments(settings, bookings, views, runner, clock, client)
    payments, gateway = payments_wiring.payments, payments_wiring.gateway
    deadlines = AllDeadlines(
        ViewDeadlineSource(views, runner.tables("deadlines")),
        ViewReviewDeadlineSource(views, runner.tables("review_deadlines")),
        ViewReminderSource(views, runner.tables("deadlines"), runner.tables("notifications")),
        calendar_feed_source(views, runner),
    )
    calendar_sync = build_calendar_sync(settings, store, listings)
    feeds = feed_handlers(calendar_sync, payments_wiring.jobs, clock.now)
    handlers = {**deadline_handlers(store, bookings), **reminder_handlers(bookings), **feeds}
    scheduler = Scheduler(bookings, deadlines, handlers=handlers)
    search = build_search_index(settings, views)
    search_source = ViewSearchDocuments(views, runner.tables("search_documents"))
    search_syncer = IndexSyncer(search_source, search)
    transport = build_transport(settings)
    notifications = build_notifications(
        settings, views, runner, payments_wiring.jobs, transport, store.current_position()
    )
    stop = threading.Event()  # the container's: ends the wake-up listeners too
    search_wakeup.wire(runner, search_syncer, views, stop)
    return Container(
        settings=settings,
        clock=clock,
        store=store,
        views=views,
        runner=runner,
        identity=identity,
        sessions=sessions,
        rate_limiter=limiter,
        listings=listings,
        bookings=bookings,
        payments=payments,
        gateway=gateway,
        payments_wiring=payments_wiring,
        scheduler=scheduler,
        redis=client,
        search=search,
        search_syncer=search_syncer,
        ledger=LedgerProcess(store),
        media=MediaLibrary(store, FileMediaStore(settings.media_root), PillowImages()),
        media_catalog=media_catalog,
        coupons=coupons,
        coupon_process=CouponProcess(store, coupons, payments_wiring.jobs, now=clock.now),
        mailer=mailer or TransportMailer(transport, settings.mail_from),
        notifications=notifications,
        calendar_sync=calendar_sync,
        _stop=stop,
    )
