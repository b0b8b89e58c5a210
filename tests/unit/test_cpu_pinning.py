"""RENTBOOK_PIN_CPUS / `serve --pin-cpus`: what the lists mean, what is refused, and how
sibling workers each claim their own core."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from infrastructure.cpu_pinning import CpuListError, parse_cpus, pin_this_worker, plan_cpus
from infrastructure.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_lists_and_ranges_name_cores_in_order_without_repeats() -> None:
    assert parse_cpus("2-3,0, 1,2", (0, 1, 2, 3)) == (2, 3, 0, 1)
    assert parse_cpus(" AUTO ", (0,)) == "auto"
    assert parse_cpus("off", (0,)) == "off"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("0,x", "expected auto, off or cores like 0,1 or 0-3"),
        ("", "expected auto, off or cores"),
        ("3-1", "'3-1' is not a range"),
        ("0,7", "core(s) 7 not available to this process (usable: 0,1)"),
    ],
)
def test_an_invalid_list_is_refused_with_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(CpuListError) as refused:
        parse_cpus(spec, (0, 1))
    assert says in str(refused.value)


def test_settings_refuse_an_invalid_list_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENTBOOK_PIN_CPUS", "0-4096")
    with pytest.raises(ValidationError, match="not available to this process"):
        Settings()


def test_auto_on_a_one_core_machine_pins_nothing_and_says_why() -> None:
    plan = plan_cpus("auto", (3,))
    assert plan.cores == ()
    assert plan.describe(1) == "cores not pinned (one core)"


def test_auto_gives_each_worker_its_own_core_then_round_robin() -> None:
    plan = plan_cpus("auto", (0, 1))
    assert [plan.core_for(slot) for slot in range(3)] == [0, 1, 0]
    assert plan.describe(2) == "pinned to cores 0,1"
    assert plan.describe(1) == "pinned to core 0"
    assert plan_cpus("off", (0, 1)).describe(2) == "cores not pinned (RENTBOOK_PIN_CPUS=off)"


@given(
    usable=st.sets(st.integers(0, 63), min_size=1, max_size=16).map(sorted).map(tuple),
    data=st.data(),
)
def test_workers_up_to_the_named_cores_never_share_one(
    usable: tuple[int, ...], data: st.DataObject
) -> None:
    named = data.draw(st.lists(st.sampled_from(usable), min_size=1, unique=True))
    plan = plan_cpus(",".join(map(str, named)), usable)
    taken = [plan.core_for(slot) for slot in range(len(named))]
    assert sorted(taken) == sorted(named)
    assert all(plan.core_for(slot) in named for slot in range(3 * len(named)))


CLAIM = """
import sys, time
from infrastructure.cpu_pinning import pin_this_worker
print(pin_this_worker("auto", 3, group=int(sys.argv[1])), flush=True)
time.sleep(30)
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")
def test_sibling_workers_claim_distinct_cores_and_a_freed_slot_is_taken_again() -> None:
    group = str(uuid.uuid4().int % 10**9)  # a group of our own, not a real process's
    usable = sorted(os.sched_getaffinity(0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started: list[subprocess.Popen[str]] = []

    def claim() -> int:
        proc = subprocess.Popen(
            [sys.executable, "-c", CLAIM, group], stdout=subprocess.PIPE, text=True, env=env
        )
        started.append(proc)
        assert proc.stdout is not None
        core = int(proc.stdout.readline())
        assert os.sched_getaffinity(proc.pid) == {core}  # the worker's main thread
        return core

    try:
        first, second = claim(), claim()
        assert [first, second] == usable[:2]
        started[0].kill()  # a worker dies; its replacement takes the core it left
        started[0].wait()
        assert claim() == first
    finally:
        for proc in started:
            proc.kill()
            proc.wait()


def test_off_leaves_the_calling_thread_alone() -> None:
    before = os.sched_getaffinity(0)
    assert pin_this_worker("off", 2) is None
    assert os.sched_getaffinity(0) == before


def test_the_compose_stack_pins_its_api_workers_and_the_setting_accepts_its_value() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    spec = compose["x-rentbook"]["environment"]["RENTBOOK_PIN_CPUS"]
    assert spec == "auto"
    assert Settings(pin_cpus=spec).pin_cpus == "auto"
