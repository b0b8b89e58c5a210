"""One Settings object for the whole process, read from RENTBOOK_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infrastructure.cpu_pinning import parse_cpus, usable_cpus

DEV_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    # Errors never echo the input: it holds the secrets (master keys, signing and Stripe keys).
    model_config = SettingsConfigDict(
        env_prefix="RENTBOOK_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "test", "production"] = "development"
    # PostgreSQL when set (postgresql://user:pass@host:port/db); else SQLite files in data_dir.
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"  # the web app's address, for links in mail
    postgres_schema: str | None = None
    # The owner role that creates the event tables (`rentbook db migrate`); when set, the
    # application role above only inserts and selects events and never creates them.
    migration_database_url: str | None = None
    # False where `rentbook db migrate` ran as the owner and the application's processes
    # should not get the owner's credentials (the compose file).
    create_event_tables: bool = True
    # How often `rentbook project` (and `serve` with in-process workers) seals a global
    # checkpoint over the event log's new events.
    audit_checkpoint_seconds: float = 300.0
    data_dir: Path = Path("var")
    # Uploaded images (content-addressed); default <data_dir>/media. A volume in production.
    media_dir: Path | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "rentbook:"
    meilisearch_url: str | None = None
    meilisearch_key: str | None = None
    # The embedded SQLite search's in-memory column store (infrastructure/search_columns.py):
    # built off the request path per index generation; "off" answers every query in SQL.
    search_columns: Literal["background", "off"] = "background"
    payment_gateway: Literal["simulated", "stripe"] = "simulated"
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    # The web app's Payment Element (Stripe.js) needs the account's publishable key (pk_...).
    stripe_publishable_key: str | None = None
    # Another Stripe API address (stripe-mock, recorded responses in tests); unset: Stripe's.
    stripe_api_base: str | None = None
    # Jobs: rq when Redis is configured ("auto"), else a worker thread in-process.
    jobs_backend: Literal["auto", "rq", "inprocess"] = "auto"
    job_max_retries: int = 5
    job_backoff: float = 2.0  # seconds before the first retry; doubles each time
    payments_stuck_minutes: int = 15  # reconcile money in flight for longer than this
    simulated_auto_confirm: bool = False  # the simulated card confirms charges at once
    secret_key: str = DEV_SECRET
    # Master keys wrapping the personal data keys (infrastructure/master_keys.py): one
    # base64 key, or a ring `id:base64,...` whose first wraps. Unset: a key generated into
    # <data_dir>/master.keys (refused in production).
    master_key: SecretStr | None = None
    master_keys: SecretStr | None = None

    renter_service_fee_bp: int = 1200  # 12 % on top of the renter's subtotal
    owner_commission_bp: int = 300  # 3 % kept from the owner's payout
    payment_hold_minutes: int = 15
    request_expiry_hours: int = 24
    session_ttl_days: int = 7
    # Seconds an authenticated principal is reused by this process (0: off); a revocation
    # in another process takes effect here within this bound.
    principal_cache_seconds: float = 5.0
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # Calendar sync (iCal import): how often a feed is fetched, how soon a failed one is
    # retried, how long and how big a fetch may be, how far ahead its events become blocks.
    calendar_feed_interval_minutes: int = 30
    calendar_feed_retry_minutes: int = 10
    calendar_feed_timeout_seconds: float = 10.0
    calendar_feed_max_bytes: int = 2_000_000
    calendar_feed_horizon_days: int = 730
    # Whether feeds may live on loopback/private addresses (local test servers); unset: only
    # outside production, so an owner's URL can never make production call inside its network.
    calendar_feed_allow_private: bool | None = None

    workers_in_process: bool = True
    projection_batch_size: int = 500
    # pages while the views are further behind: 10,000 cost PostgreSQL ~7% less than 5,000
    projection_catch_up_batch_size: int = 10_000
    # Processes `rentbook project` splits the views across (unset: one per core, at most
    # two; one on SQLite): one process catches up ~10k log events/s on one core.
    projection_processes: int | None = None
    postgres_pool_size: int = 10
    postgres_max_overflow: int = 30
    # Connections the views engine opens beyond its pool of 10 under a burst (and closes
    # after it). Unset: 20, but none in each of several API workers, whose overflow churn
    # (~500 connects per 15 s of search at 64 clients) reached a 100-connection server's
    # limit with two workers (bench/README.md, task W).
    views_max_overflow: int | None = None
    # Concurrent booking placements share one transaction (RENTBOOK_GROUP_COMMIT=0: each
    # alone); a fresh group waits this long for peers while there is concurrency.
    group_commit: bool = True
    group_commit_window_ms: float = 0.0
    # Listings and calendars each API worker keeps (fast-forwarded on every load), at most
    # this many and this many MB of them (pickled); 0: none.
    aggregate_cache_size: int = 10_000
    aggregate_cache_mb: float = 64.0
    # Placements act on the cached listing and calendar without reading them, the group
    # commit checking their versions (PostgreSQL); off: every placement reads them first.
    # On with several API workers too: each hears which streams the others wrote
    # (infrastructure/stream_notices.py) and reads those first (task K2: two workers
    # 1.70 -> 1.50 ms server CPU per booking; without the notices it was +0.2 ms).
    unread_placements: bool = True
    seed_demo_data: bool = False
    # API worker processes `rentbook serve` runs (unset: one per core); the workers it
    # spawns see the number it chose.
    api_workers: int | None = None
    # Cores of `rentbook serve`'s API workers (infrastructure/cpu_pinning.py): auto (worker
    # i on core i), off, or a list like 0,1 / 2-3.
    pin_cpus: str = "off"
    # A serving API worker loads the offline city index in a background thread at start-up
    # instead of on the first /places request: it maps the index file of the places cache
    # (~11 MB, shared by the workers), or builds that file first (~2 CPU-s) when missing.
    places_preload: bool = True
    # Observability: JSON logs except in development ("auto"); traces go to an OTLP/HTTP
    # collector only when an endpoint is set (here or OTEL_EXPORTER_OTLP_ENDPOINT).
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    otlp_endpoint: str | None = None
    # /health/ready: a projection further behind than either bound makes the API unready.
    ready_max_lag_events: int = 10_000
    ready_max_lag_seconds: float = 300.0
    # Live updates (SSE): a comment line this often keeps proxies from closing an idle
    # stream; a client more than this many events behind is dropped (it reconnects with
    # Last-Event-ID and resumes from the log).
    sse_heartbeat_seconds: float = 15.0
    sse_queue_size: int = 256
    # Email: through SMTP when smtp_host is set, else to .eml files in mail_dir
    # (default <data_dir>/mail). smtp_security: none | starttls | tls (implicit, port 465).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: Path | None = None  # a private relay's CA (default: the system's CAs)
    mail_from: str = "Rentbook <no-reply@rentbook.local>"
    # A mail's claim (`sending`) lasts this long; then the next dispatch may send it again
    # (same Message-ID). Keep it well above the SMTP timeout (30 s).
    mail_claim_lease_seconds: float = 600.0
    mail_dir: Path | None = None
    # Web app map tiles ({z}/{x}/{y} URL template); empty: the map draws markers only.
    web_map_tiles_url: str = ""

    @field_validator("pin_cpus")
    @classmethod
    def _known_cpus(cls, spec: str) -> str:
        parse_cpus(spec, usable_cpus())  # a typo fails at start-up, not in each worker
        return spec.strip().lower()

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEV_SECRET:
                raise ValueError("RENTBOOK_SECRET_KEY must be set in production")
            if not self.database_url:
                raise ValueError("RENTBOOK_DATABASE_URL (PostgreSQL) is required in production")
            if self.payment_gateway == "simulated":
                raise ValueError("the simulated payment gateway is not allowed in production")
            if self.master_key is None and self.master_keys is None:
                raise ValueError("RENTBOOK_MASTER_KEY(S) must be set in production")
        return self

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def mail_root(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"


@lru_cache
def get_settings() -> Settings:
    return Settings()
