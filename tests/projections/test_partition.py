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
from projections.partition import COST_MS_PER_10K, family, partition, score, topics_of
from projections.registry import all_projections

VIEWS = topics_of(all_projections())
TOPICS = sorted({t for topics in VIEWS.values() for t in topics})
# Registered views, and made-up ones of made-up aggregates (unknown costs), some reading
# every event (no topics).
made_up = st.tuples(
    st.text("abcdefgh_", min_size=1, max_size=8),
    st.lists(st.sampled_from([*TOPICS[:12], "x:Thing.Made", "x:Other.Done"]), max_size=4),
)
views = st.lists(
    st.one_of(st.sampled_from(sorted(VIEWS.items())), made_up),
    unique_by=lambda view: view[0],
    max_size=24,
).map(dict)


@given(views, st.integers(1, 8))
def test_the_parts_are_a_disjoint_cover_of_the_views_in_their_order(
    chosen: dict[str, list[str]], parts: int
) -> None:
    split = partition(chosen, parts)
    assert len(split) == parts
    flat = [name for part in split for name in part]
    assert sorted(flat) == sorted(chosen)  # each view in exactly one part
    order = list(chosen)
    for part in split:
        assert part == [name for name in order if name in part]
    assert partition(chosen, parts) == split  # every process computes the same split


@given(views, st.integers(2, 5))
def test_no_single_view_moved_elsewhere_makes_the_split_better(
    chosen: dict[str, list[str]], parts: int
) -> None:
    split = partition(chosen, parts)
    best = score(chosen, split)
    for name in chosen:
        for dst in range(parts):
            moved = [[n for n in p if n != name] for p in split]
            moved[dst].append(name)
            assert score(chosen, moved) >= best


def test_the_registered_views_split_in_two_by_aggregate() -> None:
    """Calendars and the audit in one process, bookings in the other: each decodes one of
    the two big aggregates (task PJ's measured split)."""
    first, second = partition(VIEWS, 2)
    families = [{family(t) for n in part for t in VIEWS[n]} for part in (first, second)]
    assert "ListingCalendar" in families[0] and "Booking" not in families[0]
    assert "Booking" in families[1] and "ListingCalendar" not in families[1]


def test_every_registered_view_has_a_measured_cost() -> None:
    assert set(COST_MS_PER_10K) == set(VIEWS)


def test_an_event_topic_names_its_aggregate() -> None:
    assert family("domain.booking:Booking.Confirmed") == "Booking"
    assert family("domain.calendar:ListingCalendar.HoldPlaced") == "ListingCalendar"


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
