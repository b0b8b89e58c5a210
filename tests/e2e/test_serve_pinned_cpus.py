"""`rentbook serve --pin-cpus` as a real subprocess: each API worker runs on the core it was
given, the background workers keep every core, `auto` on one core pins nothing, and an
invalid list stops serve before it starts anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.e2e.served import ROOT, serve

two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")


def _sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"RENTBOOK_ENVIRONMENT": "test", "RENTBOOK_DATA_DIR": str(tmp_path / "var")}


def _thread_masks(pid: int) -> dict[str, set[int]]:
    """Each thread's name (comm) -> its cores (several threads may share a name)."""
    masks: dict[str, set[int]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            masks.setdefault(name, set()).update(os.sched_getaffinity(int(tid)))
        except (OSError, ProcessLookupError):  # a thread that ended meanwhile
            continue
    return masks


@two_cores
def test_one_worker_serves_on_the_named_core_and_its_background_threads_keep_every_core(
    tmp_path: Path,
) -> None:
    usable = sorted(os.sched_getaffinity(0))
    core = usable[-1]
    args = ["--no-seed", "--pin-cpus", str(core)]
    with serve(args, _sqlite_env(tmp_path), tmp_path / "serve.log") as served:
        [(pid, body)] = served.health_pids(want=1, attempts=1).items()

        assert pid == served.process.pid and body["background_workers"] is True
        assert os.sched_getaffinity(pid) == {core}  # the main thread: the event loop
        masks = _thread_masks(pid)
        unpinned = [name for name, cores in masks.items() if cores == set(usable)]
        assert unpinned, masks  # the background workers started before the pin
    assert f"pinned to core {core}" in served.output()


def test_auto_on_a_one_core_machine_serves_unpinned_and_says_so(tmp_path: Path) -> None:
    one = min(os.sched_getaffinity(0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), **_sqlite_env(tmp_path)}
    env["RENTBOOK_PIN_CPUS"] = "auto"
    with subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli.main", "serve", "--no-seed", "--port", "0"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {one}),  # one usable core, as a cpuset gives
    ) as proc:  # fmt: skip
        try:
            assert proc.stderr is not None
            said = next(line for line in proc.stderr if line.startswith("rentbook serve:"))
            assert os.sched_getaffinity(proc.pid) == {one}
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
    assert "cores not pinned (one core)" in said


def test_an_invalid_list_stops_serve_with_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interfaces.cli.main", "serve", "--pin-cpus", "0,4096"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", **_sqlite_env(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "core(s) 4096 not available to this process" in done.stderr
    assert not (tmp_path / "var").exists()  # nothing opened, nothing seeded


@two_cores
@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_on_postgres_take_one_core_each(pg_settings: Settings, tmp_path: Path) -> None:
    env = {
        "RENTBOOK_ENVIRONMENT": "test",
        "RENTBOOK_DATABASE_URL": pg_settings.database_url or "",
        "RENTBOOK_REDIS_URL": pg_settings.redis_url or "",
        "RENTBOOK_REDIS_KEY_PREFIX": pg_settings.redis_key_prefix,
        "RENTBOOK_DATA_DIR": str(pg_settings.data_dir),
        "RENTBOOK_POSTGRES_POOL_SIZE": "4",  # three processes share the server's connections
        "RENTBOOK_POSTGRES_MAX_OVERFLOW": "8",
        "RENTBOOK_PIN_CPUS": "auto",
    }
    usable = sorted(os.sched_getaffinity(0))
    with serve(["--workers", "2", "--no-seed"], env, tmp_path / "serve.log") as served:
        workers = sorted(served.health_pids(want=2))

        assert len(workers) == 2 and served.process.pid not in workers
        masks = [_thread_masks(pid) for pid in workers]
        # lists, not sets: sorted() over sets orders by subset and leaves disjoint ones as found
        cores = sorted(sorted(os.sched_getaffinity(pid)) for pid in workers)
        assert cores == [[usable[0]], [usable[1]]]
        for pid, by_name in zip(workers, masks, strict=True):  # uvicorn's threads and ours
            assert set().union(*by_name.values()) == os.sched_getaffinity(pid), by_name
        assert os.sched_getaffinity(served.process.pid) == set(usable)  # the parent
    assert f"pinned to cores {usable[0]},{usable[1]}" in served.output()
