"""The offline places index alone: what building (or mapping) it costs a fresh process, and
what a query costs once it is there. Prints JSON.

Each run is a fresh child process (`--child`), so its RSS delta is the index's alone:
  python bench/places_index.py --runs 3 [--cache-dir DIR] [--out FILE]
`--cache-dir` sets RENTBOOK_PLACES_CACHE_DIR for the children (a tree without the on-disk
index ignores it); the first child of an empty directory builds the file, the rest map it.
The `answers` digest is the same for two trees that answer every query alike.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUERIES = ["sa", "ma", "la", "be", "st", "ka", "san", "lisb", "new y", "zür", "Москва", "wie"]
COUNTRIES = (None, "US", "NZ")


def _status() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def _cpu() -> float:
    """This process's CPU and its children's (a child may build the index file)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child() -> dict[str, object]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from infrastructure.places_offline import shared_places

    places = shared_places()
    before = _status()
    cpu0, wall0 = _cpu(), time.perf_counter()
    places.autocomplete("lisb")  # builds (or maps) the name index
    build_cpu, build_wall = _cpu() - cpu0, time.perf_counter() - wall0
    after = _status()
    digest = hashlib.sha256()
    for q in QUERIES:
        for country in COUNTRIES:
            found = places.autocomplete(q, 10, country)
            digest.update(repr([(p.name, p.country, p.population) for p in found]).encode())
    digest.update(repr(places.largest(50)).encode())
    timings: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _ in range(20):
        for q in QUERIES:
            for country in COUNTRIES:
                started = time.thread_time()
                places.autocomplete(q, 10, country)
                timings[q].append(time.thread_time() - started)
    two = [t for q in QUERIES if len(q) == 2 for t in timings[q]]
    every = [t for ts in timings.values() for t in ts]
    return {
        "build_cpu_s": round(build_cpu, 3),
        "build_wall_s": round(build_wall, 3),
        "before_mb": before,
        "after_mb": _status(),
        "after_build_mb": after,
        "rss_delta_mb": round(after["VmRSS"] - before["VmRSS"], 1),
        "anon_delta_mb": round(after["RssAnon"] - before["RssAnon"], 1),
        "query_two_letters_ms_median": round(statistics.median(two) * 1e3, 4),
        "query_all_ms_median": round(statistics.median(every) * 1e3, 4),
        "query_all_ms_max": round(max(every) * 1e3, 4),
        "answers": digest.hexdigest()[:16],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child()))
        return
    env = dict(os.environ)
    if args.cache_dir:
        env["RENTBOOK_PLACES_CACHE_DIR"] = args.cache_dir
    runs = []
    for _ in range(args.runs):
        load = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True
        )
        out.check_returncode()
        runs.append(json.loads(out.stdout) | {"load": round(load, 1)})
    report = {"tree": str(Path(__file__).resolve().parent.parent), "runs": runs}
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
