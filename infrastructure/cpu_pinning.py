"""Which core each API worker process of `rentbook serve` runs on (RENTBOOK_PIN_CPUS).

Each request hops between the event loop and pool threads; unpinned, the GIL hand-off often
wakes a thread on the other core (a cold cache, ~40 µs per switch, several per request).
Pinned, a worker's threads share one core's cache (bench/README.md, tasks SG and AF).

`auto` pins worker i to core i (round robin beyond the cores; one worker takes one core,
leaving the others to PostgreSQL, Redis and the background workers); `off` pins nothing;
a list such as `0,1` or `2-3` gives the cores in the order the workers take them. uvicorn
spawns identical workers, so a worker learns its place by claiming the first free slot: an
abstract Unix socket named after the supervising process and the slot, which the kernel
frees when the worker exits, so a restarted worker takes the core its predecessor left."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

_claims: list[socket.socket] = []  # held for the process's life: the slot stays taken


class CpuListError(ValueError):
    """RENTBOOK_PIN_CPUS / --pin-cpus is not auto, off or a list of this machine's cores."""


@dataclass(frozen=True)
class CpuPlan:
    """The core of each worker slot; empty: nothing pinned (`why` says why)."""

    cores: tuple[int, ...]
    why: str = ""

    def core_for(self, slot: int) -> int:
        return self.cores[slot % len(self.cores)]

    def describe(self, workers: int) -> str:
        if not self.cores:
            return f"cores not pinned ({self.why})"
        taken = [self.core_for(i) for i in range(workers)]
        return "pinned to core" + ("s " if len(taken) > 1 else " ") + ",".join(map(str, taken))


def usable_cpus() -> tuple[int, ...]:
    """The cores this process may run on (a container's cpuset, `taskset`), ascending."""
    return tuple(sorted(os.sched_getaffinity(0)))


def parse_cpus(spec: str, usable: tuple[int, ...]) -> tuple[int, ...] | str:
    """`auto` / `off`, or the cores a list names in its order; refuses what `usable` lacks."""
    text = spec.strip().lower()
    if text in ("auto", "off"):
        return text
    cores: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise CpuListError(
                f"RENTBOOK_PIN_CPUS={spec!r}: expected auto, off or cores like 0,1 or 0-3"
            ) from None
        if first < 0 or last < first:
            raise CpuListError(f"RENTBOOK_PIN_CPUS={spec!r}: {part.strip()!r} is not a range")
        cores.extend(c for c in range(first, last + 1) if c not in cores)
    missing = [c for c in cores if c not in usable]
    if missing:
        raise CpuListError(
            f"RENTBOOK_PIN_CPUS={spec!r}: core(s) {','.join(map(str, missing))} not available "
            f"to this process (usable: {','.join(map(str, usable))})"
        )
    return tuple(cores)


def plan_cpus(spec: str, usable: tuple[int, ...]) -> CpuPlan:
    parsed = parse_cpus(spec, usable)
    if parsed == "off":
        return CpuPlan((), "RENTBOOK_PIN_CPUS=off")
    if parsed == "auto":
        if len(usable) < 2:  # nothing to choose between, and one core must serve everything
            return CpuPlan((), "one core")
        return CpuPlan(usable)
    assert not isinstance(parsed, str)
    return CpuPlan(parsed)


def pin_this_worker(
    spec: str, slots: int, *, group: int | None = None, every_thread: bool = True
) -> int | None:
    """Pins this worker to its core: the first of `slots` slots that no sibling of `group`
    (default: the parent process, uvicorn's supervisor) holds. Returns the core, or None
    when nothing is pinned. The calling thread and the threads it starts afterwards move,
    and with `every_thread` those already running too (uvicorn's own); without, they keep
    their cores (`serve` with one worker starts its background workers first)."""
    plan = plan_cpus(spec, usable_cpus())
    if not plan.cores:
        return None
    owner = os.getppid() if group is None else group
    for slot in range(max(1, slots)):
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0rentbook-cpu-{owner}-{slot}")
        except OSError:  # a sibling holds it
            claim.close()
            continue
        _claims.append(claim)
        core = plan.core_for(slot)
        threads = os.listdir("/proc/self/task") if every_thread else ["0"]
        for tid in threads:  # pid 0: the calling thread
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(tid), {core})
        log.info("api worker pinned", extra={"core": core, "slot": slot})
        return core
    log.warning("api worker not pinned: every slot taken", extra={"slots": slots})
    return None
