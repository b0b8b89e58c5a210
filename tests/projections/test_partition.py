"""Splitting the views between projection processes (`projections/partition.py`) and how
many processes `rentbook project` runs (`interfaces/cli/project.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from infrastructure.settings import Settings, get_settings
from interfaces.cli.main import app
from interfaces.cli.project import plan_processes
from projections.partition import COST_MS_PER_10K, cost, load, partition
from projections.registry import all_projections

VIEWS = [p.name for p in all_projections()]
names = st.lists(
    st.one_of(st.sampled_from(VIEWS), st.text("abcdefgh_", min_size=1, max_size=8)),
    unique=True,
    max_size=40,
)


@given(names, st.integers(1, 30))
def test_the_parts_are_a_disjoint_cover_of_the_views_in_their_order(
    views: list[str], parts: int
) -> None:
    split = partition(views, parts)
    assert len(split) == parts
    flat = [name for part in split for name in part]
    assert sorted(flat) == sorted(views)  # each view in exactly one part
    for part in split:
        assert part == [name for name in views if name in part]
    assert partition(views, parts) == split  # every process computes the same split


@given(names, st.integers(1, 30))
def test_no_part_carries_more_than_one_view_beyond_the_lightest(
    views: list[str], parts: int
) -> None:
    loads = [load(part) for part in partition(views, parts)]
    heaviest_view = max((cost(name) for name in views), default=0.0)
    assert max(loads) - min(loads) <= heaviest_view


def test_the_registered_views_split_in_two_within_a_tenth() -> None:
    first, second = (load(part) for part in partition(VIEWS, 2))
    assert abs(first - second) <= 0.1 * (first + second) / 2


def test_every_registered_view_has_a_measured_cost() -> None:
    assert set(COST_MS_PER_10K) == set(VIEWS)


def test_fewer_than_one_part_is_refused() -> None:
    with pytest.raises(ValueError):
        partition(VIEWS, 0)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "var", **values)  # type: ignore[arg-type]


def test_postgres_runs_one_process_per_core_up_to_two_unless_told(tmp_path: Path) -> None:
    pg = _settings(tmp_path, database_url="postgresql://x@127.0.0.1/rentbook")
    assert plan_processes(pg, None, False, 8) == (2, [])
    assert plan_processes(pg, None, False, 1) == (1, [])
    assert plan_processes(pg, 3, False, 1) == (3, [])
    told = pg.model_copy(update={"projection_processes": 4})
    assert plan_processes(told, None, False, 2) == (4, [])


def test_sqlite_and_a_view_list_run_one_process_and_say_why(tmp_path: Path) -> None:
    count, notes = plan_processes(_settings(tmp_path), 2, False, 8)
    assert count == 1 and "SQLite" in notes[0]
    pg = _settings(tmp_path, database_url="postgresql://x@127.0.0.1/rentbook")
    count, notes = plan_processes(pg, 2, True, 8)
    assert count == 1 and "--views" in notes[0]


def test_an_unknown_view_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["project", "--views", "bookings,no_such_view"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "no_such_view" in result.output
