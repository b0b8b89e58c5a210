#!/usr/bin/env python
"""Embedded search backends, called directly (no HTTP). Prints one JSON object.

For each backend (SQLite on a fresh file, PostgreSQL on a fresh database) and each `--docs`
size: N synthetic, realistic search documents (five categories, ~40 real cities, 3-7 of 24
amenities, log-normal prices in three currencies, a year of blocked nights for nightly
listings and 90 days of blocked hours for hourly ones, titles and descriptions from a
vocabulary of ~300 words) are upserted in batches of `--batch` (index build, documents/s);
then each query shape runs `--queries` times single-threaded and the mixed workload runs
single-threaded and from `--threads` threads.

Shapes: empty (no q, facets), empty_sorted (no q, price sort, facets), filters (category +
price range + guests), text (a medium word), common (a word nearly every document has),
prefix1 (one letter), typo, two_words, geo (radius + distance sort), bbox, dates (free
nights), amenities, mixed (a weighted draw of all). Each figure: p50/p95/p99/max/mean ms
(nearest rank). `cache` says whether answers could repeat (the mixed draws come from a fixed
pool of query variants, as real traffic repeats; `--no-repeat` makes every query distinct by
randomising its numbers).

Run:  .venv/bin/python bench/search_backends.py                      (10k, both backends)
      .venv/bin/python bench/search_backends.py --docs 10000,100000
      .venv/bin/python bench/search_backends.py --backends sqlite --docs 10000 --queries 200
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CpuMeter, latency_summary, machine, run_threads, temporary_database
from _search_corpus import CITIES, DAY0, NOUNS, make_documents

from application.search import SearchIndex, SearchQuery
from infrastructure.views_db import create_views_engine


def query_variants(r: random.Random) -> dict[str, Callable[[], SearchQuery]]:
    """Each shape draws its parameters from `r` (a small set of values, as traffic repeats)."""

    def city() -> tuple[str, str, float, float, str]:
        return r.choice(CITIES[:12])

    def geo() -> SearchQuery:
        _, _, lat, lng, _ = city()
        return SearchQuery(lat=lat, lng=lng, radius_km=r.choice([2, 5, 10, 25]), sort="distance")

    def bbox() -> SearchQuery:
        _, _, lat, lng, _ = city()
        d = r.choice([0.05, 0.1, 0.2])
        return SearchQuery(bbox=(lat + d, lng - d, lat - d, lng + d))

    def dates() -> SearchQuery:
        start = DAY0 + r.randint(0, 60)
        return SearchQuery(
            category="stay",
            free_nights=tuple(range(start, start + r.choice([2, 3, 5, 7]))),
            guests=r.choice([None, 2, 4]),
        )

    return {
        "empty": lambda: SearchQuery(),
        "empty_sorted": lambda: SearchQuery(sort=r.choice(["price_asc", "newest", "rating"])),
        "filters": lambda: SearchQuery(
            category=r.choice(list(NOUNS)),
            min_price=r.choice([None, 1000, 3000]),
            max_price=r.choice([None, 10_000, 20_000]),
            guests=r.choice([None, 2, 4]),
            sort=r.choice(["relevance", "price_asc"]),
        ),
        "text": lambda: SearchQuery(q=r.choice(["loft", "garden", "padel", "villa", "camera"])),
        "common": lambda: SearchQuery(q=r.choice(["near", "the", "with", "quiet"])),
        "prefix1": lambda: SearchQuery(q=r.choice(["s", "c", "b", "p"])),
        "typo": lambda: SearchQuery(q=r.choice(["apartmnet", "penthuose", "scoter", "kayka"])),
        "two_words": lambda: SearchQuery(
            q=r.choice(["sunny loft", "quiet stu", "electric car", "tennis court"]),
            category=r.choice([None, None, "stay"]),
        ),
        "geo": geo,
        "bbox": bbox,
        "dates": dates,
        "amenities": lambda: SearchQuery(
            amenities=tuple(r.sample(["wifi", "kitchen", "parking", "washer"], 2)),
            q=r.choice(["", "", "flat"]),
        ),
    }


MIX = {
    "empty": 10,
    "empty_sorted": 8,
    "filters": 14,
    "text": 14,
    "common": 6,
    "prefix1": 4,
    "typo": 6,
    "two_words": 10,
    "geo": 10,
    "bbox": 6,
    "dates": 8,
    "amenities": 4,
}


def unrepeatable(query: SearchQuery, r: random.Random) -> SearchQuery:
    """The same shape with a price bound nobody else asks for: defeats any answer cache."""
    from dataclasses import replace

    return replace(query, max_price=(query.max_price or 10_000_000) + r.randint(1, 10_000))


def measure(index: SearchIndex, queries: list[SearchQuery], threads: int) -> dict[str, Any]:
    cpu0 = time.process_time()
    thread_cpu: list[float] = []  # per query, the calling thread's CPU (load barely moves it)

    def one(i: int) -> None:
        t0 = time.thread_time()
        index.search(queries[i])
        thread_cpu.append(time.thread_time() - t0)

    result = run_threads(threads, len(queries), one)
    cpu_ms = (time.process_time() - cpu0) * 1000
    per_query = latency_summary(thread_cpu)
    return {
        "count": len(result["latencies"]),
        "rate_per_s": round(len(result["latencies"]) / result["seconds"], 1),
        **latency_summary(result["latencies"]),
        "cpu_ms_per_query": round(cpu_ms / max(1, len(queries)), 3),
        "thread_cpu_p50_ms": per_query["p50_ms"],
        "thread_cpu_p95_ms": per_query["p95_ms"],
        "errors": result["errors"],
    }


def bench_backend(
    name: str, index: SearchIndex, docs: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    index.ensure_settings()
    if getattr(args, "reused", False):
        out["build"] = {"docs": len(docs), "reused": True}
    else:
        index.clear()
        t0 = time.perf_counter()
        for i in range(0, len(docs), args.batch):
            index.upsert(docs[i : i + args.batch])
        build = time.perf_counter() - t0
        out["build"] = {"docs": len(docs), "seconds": round(build, 2),
                        "docs_per_s": round(len(docs) / build, 1)}  # fmt: skip
    if hasattr(index, "columns") and index.columns.mode != "off":
        t0 = time.perf_counter()
        index.search(SearchQuery())  # the column store's first build, outside the figures
        out["column_store_first_build_s"] = round(time.perf_counter() - t0, 2)
    r = random.Random(11)
    variants = query_variants(r)
    for q in [v() for v in variants.values() for _ in range(3)]:  # warm caches and plans
        index.search(q)

    def draw(shape: str) -> SearchQuery:
        query = variants[shape]()
        return unrepeatable(query, r) if args.no_repeat else query

    shapes: dict[str, Any] = {}
    for shape in variants:
        shapes[shape] = measure(index, [draw(shape) for _ in range(args.queries)], 1)
    out["shapes_single_thread"] = shapes
    names, weights = list(MIX), list(MIX.values())
    mixed = [draw(r.choices(names, weights)[0]) for _ in range(args.mixed)]
    cpu = CpuMeter()
    cpu.start()
    out["mixed_single_thread"] = measure(index, mixed, 1)
    out["mixed_single_thread"]["cpu"] = cpu.stop()
    if args.no_repeat:  # a fresh draw, so the threads never meet the first run's answers
        mixed = [draw(r.choices(names, weights)[0]) for _ in range(args.mixed)]
    cpu.start()
    out[f"mixed_{args.threads}_threads"] = measure(index, mixed, args.threads)
    out[f"mixed_{args.threads}_threads"]["cpu"] = cpu.stop()
    return out


def _sqlite_file(args: argparse.Namespace, size: int, tmp: str) -> tuple[Path, Path | None]:
    """The file to run on, and the kept copy (`--data-dir`): a kept index is copied into
    `tmp`, so a run never changes it; a fresh build is copied there once complete."""
    if not args.data_dir:
        return Path(tmp) / "views.db", None
    kept = Path(args.data_dir) / f"views_{size}.db"
    kept.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tmp) / "views.db"
    if kept.exists():
        shutil.copyfile(kept, path)
    return path, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", default="10000", help="comma-separated sizes")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--queries", type=int, default=100, help="per shape, single thread")
    parser.add_argument("--mixed", type=int, default=600, help="mixed queries per run")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-repeat", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--data-dir",
        help="SQLite: keep each size's built index in DIR/views_<docs>.db and reuse it on later "
        "runs (a 100k build takes minutes); the file is written only after a complete build",
    )
    parser.add_argument(
        "--columns",
        default="sync",
        choices=("off", "sync", "background"),
        help="SQLite's in-memory column store (off: the SQL path alone, as before issue #9's "
        "column store)",
    )
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "search_backends",
        "machine": machine(),
        "args": vars(args),
        "targets_p95_ms": {"10000": 20, "100000": 50},
        "results": {},
    }
    for size in (int(s) for s in args.docs.split(",")):
        docs = make_documents(size)
        per_size: dict[str, Any] = {}
        for backend in args.backends.split(","):
            if backend == "sqlite":
                from infrastructure.search_sqlite import SqliteSearchIndex

                with tempfile.TemporaryDirectory() as tmp:
                    path, kept = _sqlite_file(args, size, tmp)
                    args.reused = kept is not None and kept.exists()
                    engine = create_views_engine(f"sqlite:///{path}", pool_size=10)
                    try:
                        index = SqliteSearchIndex(engine, columns=args.columns)
                        per_size["sqlite"] = bench_backend("sqlite", index, docs, args)
                        store = index.columns.store
                        per_size["sqlite"]["column_store"] = store and store.stats()
                    finally:
                        engine.dispose()
                    if kept is not None and not args.reused:
                        shutil.copyfile(path, kept)
            elif backend == "postgres":
                from infrastructure.search_postgres import PostgresSearchIndex

                with temporary_database("rentbook_bench_search", keep=args.keep_db) as url:
                    engine = create_views_engine(url, pool_size=args.threads)
                    try:
                        per_size["postgres"] = bench_backend(
                            "postgres", PostgresSearchIndex(engine), docs, args
                        )
                    finally:
                        engine.dispose()
            print(f"done {backend} {size}", file=sys.stderr, flush=True)
        report["results"][str(size)] = per_size
    target = report["targets_p95_ms"]
    report["targets"] = {
        f"{backend}_{size}_mixed_p95_under_{target[size]}ms": res["mixed_single_thread"]["p95_ms"]
        < target[size]
        for size, per_size in report["results"].items()
        if size in target
        for backend, res in per_size.items()
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
