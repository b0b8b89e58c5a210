"""In-process micro-benchmark of the key ring's warm path (seal and open with cached keys,
the cost the booking path pays per sealed field; `is_destroyed`, which the mapper asks per
personal event). Prints JSON: CPU µs per call.

    python bench/keyring_micro.py [--subjects 200] [--rounds 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from infrastructure.master_keys import MasterKeys
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        ring = SqlKeyRing(engine, MasterKeys({"bench": bytes(32)}), cache_seconds=3600.0)
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
        engine.dispose()
    print(
        json.dumps(
            {
                "seal_cpu_us_min": round(min(seal_us), 3),
                "seal_cpu_us_median": round(sorted(seal_us)[len(seal_us) // 2], 3),
                "open_cpu_us_min": round(min(open_us), 3),
                "open_cpu_us_median": round(sorted(open_us)[len(open_us) // 2], 3),
                "is_destroyed_cpu_us_min": round(min(destroyed_us), 3),
                "subjects": args.subjects,
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
