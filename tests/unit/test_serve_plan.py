"""How `rentbook serve` runs: one API worker per core where every piece of per-request
state is shared between processes (PostgreSQL + Redis), one otherwise and why; the
background workers exactly once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.settings import Settings
from interfaces.cli.serve_plan import plan_serve

PG = "postgresql://u@db/rentbook"
REDIS = "redis://redis:6379/0"


def shared(**overrides: object) -> Settings:
    return Settings(environment="test", database_url=PG, redis_url=REDIS, **overrides)


def test_postgres_with_redis_defaults_to_one_worker_per_core() -> None:
    plan = plan_serve(shared(), None, True, cpus=4)
    assert plan.api_workers == 4
    assert plan.background == "parent"


def test_the_setting_gives_the_default_and_the_option_wins() -> None:
    assert plan_serve(shared(api_workers=3), None, True, cpus=8).api_workers == 3
    assert plan_serve(shared(api_workers=3), 2, True, cpus=8).api_workers == 2


def test_one_worker_runs_the_background_workers_in_its_own_process() -> None:
    plan = plan_serve(shared(), 1, True, cpus=4)
    assert (plan.api_workers, plan.background) == (1, "in-process")
    assert plan.notes == ()


def test_without_background_nobody_runs_them_here() -> None:
    assert plan_serve(shared(), 2, False, cpus=2).background == "off"
    assert "rentbook project" in plan_serve(shared(), 2, False, cpus=2).describe()


def test_sqlite_serves_one_worker_and_says_why() -> None:
    plan = plan_serve(Settings(environment="test"), 4, True, cpus=4)
    assert (plan.api_workers, plan.background) == (1, "in-process")
    assert any("one API worker, not 4: the embedded SQLite store" in n for n in plan.notes)


def test_without_redis_sessions_would_not_be_shared_so_one_worker() -> None:
    plan = plan_serve(Settings(environment="test", database_url=PG), 2, True, cpus=2)
    assert plan.api_workers == 1
    assert any("RENTBOOK_REDIS_URL" in n for n in plan.notes)


def test_an_in_process_job_queue_keeps_one_worker() -> None:
    plan = plan_serve(shared(jobs_backend="inprocess"), 2, True, cpus=2)
    assert plan.api_workers == 1
    assert any("RENTBOOK_JOBS_BACKEND" in n for n in plan.notes)


def test_one_worker_by_request_needs_no_explanation() -> None:
    assert plan_serve(Settings(environment="test"), 1, True, cpus=8).notes == ()


def test_several_workers_warn_that_the_dev_clock_needs_one() -> None:
    plan = plan_serve(shared(), 2, True, cpus=2)
    assert any("/dev/clock" in n for n in plan.notes)


@given(
    requested=st.none() | st.integers(1, 64),
    setting=st.none() | st.integers(1, 64),
    cpus=st.none() | st.integers(1, 64),
    postgres=st.booleans(),
    redis=st.booleans(),
    background=st.booleans(),
)
def test_background_workers_run_exactly_once_whatever_the_plan(
    requested: int | None,
    setting: int | None,
    cpus: int | None,
    postgres: bool,
    redis: bool,
    background: bool,
) -> None:
    settings = Settings(
        environment="test",
        database_url=PG if postgres else None,
        redis_url=REDIS if redis else None,
        api_workers=setting,
    )
    plan = plan_serve(settings, requested, background, cpus)
    assert plan.api_workers >= 1
    if not (postgres and redis):
        assert plan.api_workers == 1
    # Never in the API workers: with several, only the one parent runs them.
    if not background:
        assert plan.background == "off"
    else:
        assert plan.background == ("in-process" if plan.api_workers == 1 else "parent")
