"""In-process micro-benchmark of the key ring's warm path (seal and open with cached keys,
the cost the booking path pays per sealed field; `is_destroyed`, which the mapper asks per
personal event) and of its cold path (a fresh ring loading keys: one at a time, and a
rebuild's page at once with `preload`; where wrapped keys are unwrapped). Prints JSON: CPU
µs per call or per subject. Runs against a checkout from before master keys too (ABAB).

    python bench/keyring_micro.py [--subjects 200] [--rounds 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from uuid import UUID, uuid4

from sqlalchemy import Engine

from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine


def new_ring(engine: Engine, **options: float) -> SqlKeyRing:
    try:
        from infrastructure.master_keys import MasterKeys
    except ImportError:  # a checkout from before master keys: data keys in the clear
        return SqlKeyRing(engine, **options)  # type: ignore[call-arg, unused-ignore]
    return SqlKeyRing(engine, MasterKeys({"bench": bytes(32)}), **options)  # type: ignore[arg-type, unused-ignore]


def cold_us(engine: Engine, subjects: list[UUID], repeat: int) -> tuple[list[float], list[float]]:
    """CPU µs per subject of a fresh ring's first lookups: one by one, and one preload."""
    single, page = [], []
    for _ in range(repeat):
        ring = new_ring(engine, cache_seconds=3600.0)
        start = time.process_time()
        for subject in subjects:
            ring.is_destroyed(subject)
        single.append((time.process_time() - start) / len(subjects) * 1e6)
        ring = new_ring(engine, cache_seconds=3600.0)
        start = time.process_time()
        ring.preload(subjects)
        page.append((time.process_time() - start) / len(subjects) * 1e6)
    return single, page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        ring = new_ring(engine, cache_seconds=3600.0)
        subjects = [uuid4() for _ in range(args.subjects)]
        sealed = [ring.seal(s, b"aad", b"Ada Lovelace <ada@example.com>") for s in subjects]
        pairs = list(zip(subjects, sealed, strict=True))
        seal_us, open_us, destroyed_us = [], [], []
        for _ in range(args.repeat):
            start = time.process_time()
            for i in range(args.rounds):
                ring.seal(subjects[i % len(subjects)], b"aad", b"Ada Lovelace")
            seal_us.append((time.process_time() - start) / args.rounds * 1e6)
            start = time.process_time()
            for i in range(args.rounds):
                subject, blob = pairs[i % len(pairs)]
                assert blob is not None
                ring.open(subject, b"aad", blob)
            open_us.append((time.process_time() - start) / args.rounds * 1e6)
            start = time.process_time()
            for i in range(args.rounds):
                ring.is_destroyed(subjects[i % len(subjects)])
            destroyed_us.append((time.process_time() - start) / args.rounds * 1e6)
        single_us, page_us = cold_us(engine, subjects, args.repeat)
        engine.dispose()
    print(
        json.dumps(
            {
                "seal_cpu_us_min": round(min(seal_us), 3),
                "seal_cpu_us_median": round(sorted(seal_us)[len(seal_us) // 2], 3),
                "open_cpu_us_min": round(min(open_us), 3),
                "open_cpu_us_median": round(sorted(open_us)[len(open_us) // 2], 3),
                "is_destroyed_cpu_us_min": round(min(destroyed_us), 3),
                "cold_load_cpu_us_per_subject_median": _median(single_us),
                "cold_preload_cpu_us_per_subject_median": _median(page_us),
                "subjects": args.subjects,
                "rounds": args.rounds,
            }
        )
    )


def _median(values: list[float]) -> float:
    return round(sorted(values)[len(values) // 2], 3)


if __name__ == "__main__":
    main()
