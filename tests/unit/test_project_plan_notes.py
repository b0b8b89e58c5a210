"""`rentbook project` says why it runs fewer processes than asked, only when some were asked
for: every child the supervisor starts is `--views ...` with the default count, and on a
two-core machine each said "one process, not 2: --views runs exactly the views it names" at
every start (and `rentbook project` on SQLite "one process, not 2"), with nobody asking."""

from __future__ import annotations

from pathlib import Path

from infrastructure.settings import Settings
from interfaces.cli.project import plan_processes

PG = "postgresql://x@127.0.0.1/rentbook"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "var", **values)  # type: ignore[arg-type]


def test_the_default_count_falls_back_to_one_without_a_word(tmp_path: Path) -> None:
    assert plan_processes(_settings(tmp_path), None, False, 2) == (1, [])
    assert plan_processes(_settings(tmp_path, database_url=PG), None, True, 2) == (1, [])


def test_a_count_asked_for_says_why_it_is_not_run(tmp_path: Path) -> None:
    told = _settings(tmp_path, database_url=PG, projection_processes=3)
    count, notes = plan_processes(told, None, True, 2)
    assert count == 1 and "not 3" in notes[0] and "--views" in notes[0]
    count, notes = plan_processes(_settings(tmp_path), 2, False, 1)
    assert count == 1 and "SQLite" in notes[0]
