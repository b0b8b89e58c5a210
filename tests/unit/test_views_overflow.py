"""The views engine's overflow per process: none in each of several API workers (their
churn of short-lived connections reached a 100-connection server's limit with two)."""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine, views_overflow

PG_URL = "postgresql://nobody@127.0.0.1:1/none"  # never connected: the pool is lazy


def test_one_worker_keeps_the_default_overflow() -> None:
    assert views_overflow(Settings(api_workers=1, workers_in_process=False)) is None
    assert views_overflow(Settings(api_workers=None)) is None


def test_each_of_several_api_workers_has_none() -> None:
    assert views_overflow(Settings(api_workers=2, workers_in_process=False)) == 0


def test_the_background_process_keeps_it() -> None:
    assert views_overflow(Settings(api_workers=4, workers_in_process=True)) is None


def test_an_explicit_setting_wins() -> None:
    settings = Settings(api_workers=2, workers_in_process=False, views_max_overflow=5)
    assert views_overflow(settings) == 5


def test_the_engine_takes_it() -> None:
    default, none = create_views_engine(PG_URL), create_views_engine(PG_URL, max_overflow=0)
    try:
        assert isinstance(default.pool, QueuePool) and isinstance(none.pool, QueuePool)
        assert default.pool._max_overflow == 20
        assert none.pool._max_overflow == 0
    finally:
        default.dispose()
        none.dispose()
