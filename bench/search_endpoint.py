"""CPU per query of the search endpoint's own work, in process, single thread: what
`GET /search/listings` does between the HTTP layer and the response bytes (the listing
search with its dated re-check, then the JSON body), over search.py's query mix, every
query distinct. No HTTP, no background workers: on a shared machine this is the figure
that compares (thread CPU, not wall time). Prints one JSON object.

    .venv/bin/python bench/search_endpoint.py --data-dir /tmp/s10k --size 10000 --queries 2000

`--data-dir` is seeded (as search.py seeds; above 12,000 listings as http_wrk's template,
bench/_search_replica.py) when it holds no views database, and kept, so runs of two
checkouts can share it (an http_wrk `--search-template` directory's copy serves too).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import search as search_bench
from _common import latency_summary, machine
from _search_queries import query_mix
from _search_replica import BLOCK, seed_replicated

from application.demo_places import demo_cities
from application.search_queries import SearchParams
from infrastructure.bootstrap import build_container
from infrastructure.places_offline import shared_places
from infrastructure.settings import Settings
from interfaces.http.search import _amenities, get_listing_search
from interfaces.http.search_json import body_response, results_body

INTS = ("guests", "min_price", "max_price", "limit", "offset", "quantity")


def params(raw: dict[str, Any]) -> SearchParams:
    """The endpoint's parameters as FastAPI would hand them over."""
    p = dict(raw)
    if "amenities" in p:
        p["amenities"] = _amenities([str(p["amenities"])])
    p.update({k: float(p[k]) for k in ("lat", "lng", "radius_km") if k in p})
    p.update({k: int(p[k]) for k in INTS if k in p})
    if "instant_book" in p:
        p["instant_book"] = p["instant_book"] in ("true", True)
    return SearchParams(**p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=2_000)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    settings = Settings(environment="test", data_dir=args.data_dir, workers_in_process=False)
    if not (args.data_dir / "views.db").exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        seed = seed_replicated if args.size > BLOCK else search_bench.seed  # as http_wrk's
        seed(settings, args.size)
    container = build_container(settings)
    assert container.search is not None
    container.search.columns.mode = "sync"  # type: ignore[attr-defined]
    cities = demo_cities(shared_places(), 2_000)

    def one(p: SearchParams) -> bytes:
        page = get_listing_search(container).search(p, at=container.clock.now())
        return bytes(body_response(results_body(page, set())).body)

    try:
        for _, raw in query_mix(cities, 300, seed_=3):  # warm-up: the store, lazy imports
            one(params(raw))
        mix = [(kind, params(raw)) for kind, raw in query_mix(cities, args.queries)]
        per: dict[str, list[float]] = defaultdict(list)
        t_all = time.thread_time()
        for kind, p in mix:
            t0 = time.thread_time()
            one(p)
            per[kind].append(time.thread_time() - t0)
        total = time.thread_time() - t_all
    finally:
        container.close()
    print(
        json.dumps(
            {
                "benchmark": "search_endpoint",
                "machine": machine(),
                "params": {k: str(v) for k, v in vars(args).items()},
                "cpu_ms_per_query": round(1000 * total / len(mix), 3),
                # thread CPU per query, every query distinct (issue #9: p95 < 10 ms at 100k)
                "thread_cpu": latency_summary([t for v in per.values() for t in v]),
                "by_kind": {
                    k: {
                        "count": len(v),
                        "cpu_ms_mean": round(1000 * sum(v) / len(v), 3),
                        "cpu_ms_p95": latency_summary(v)["p95_ms"],
                    }
                    for k, v in sorted(per.items())
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
