"""CPU per event of the personal-data mapper's page decode: this tree's mapper and
transcoder against another tree's (`--base`, e.g. a worktree of main), loaded side by side
in one process and timed alternately, so the machine's load hits both alike.

Pages: the Booking.Placed of a seed log (plaintext, as the seed stores them), the same
sealed (as production stores them), and the whole seed log. Prints µs of CPU per event,
the median of `--rounds`.

Run:  PYTHONPATH=. .venv/bin/python bench/mapper_decode.py --base /work/wt/x-base
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from _event_seed import seed_events
from eventsourcing.persistence import StoredEvent

from application.store import EventStore
from infrastructure.master_keys import MasterKeys
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine

PLACED = "domain.booking:Booking.Placed"


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the other tree")
    parser.add_argument("--seed-events", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    seed, _ = seed_events(args.seed_events, 6)
    notes = seed.recorder.select_notifications(start=1, limit=10**9)
    log = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notes]
    engine = create_views_engine(f"sqlite:///{tempfile.mkdtemp()}/keys.db")
    ring = SqlKeyRing(engine, MasterKeys({"bench": bytes(32)}))
    new = EventStore({"PERSISTENCE_MODULE": "eventsourcing.popo"}, keyring=ring).mapper
    transcoding = _module(args.base / "application/event_transcoder.py", "base_transcoder")
    transcoder = transcoding.EventTranscoder()
    for each in new.transcoder.names.values():  # type: ignore[attr-defined]
        transcoder.register(each)
    mapping = _module(args.base / "application/personal_mapper.py", "base_mapper")
    base = mapping.PersonalDataMapper(transcoder, ring)
    plain = [s for s in log if s.topic == PLACED]
    pages = {
        "placed_plaintext": plain,
        "placed_sealed": [new.to_stored_event(new.to_domain_event(s)) for s in plain],
        "whole_seed_log": log,
    }
    mappers: dict[str, Any] = {"base": base, "branch": new}
    times: dict[str, dict[str, list[float]]] = {p: {"base": [], "branch": []} for p in pages}
    for events in pages.values():  # the same events, and every key cached
        decoded = [[vars(e) for e in m.to_domain_events(events)] for m in mappers.values()]
        assert decoded[0] == decoded[1]
    del decoded
    for r in range(args.rounds):
        order = ["base", "branch"] if r % 2 else ["branch", "base"]
        for page, events in pages.items():
            for name in order:
                gc.collect()  # a full collection lands in either run otherwise (8,000 events)
                t = time.process_time()
                mappers[name].to_domain_events(events)
                times[page][name].append((time.process_time() - t) / len(events) * 1e6)
    out = {
        page: {name: round(sorted(v)[len(v) // 2], 2) for name, v in by.items()}
        for page, by in times.items()
    }
    out["events"] = {page: len(events) for page, events in pages.items()}  # type: ignore[assignment]
    print(json.dumps(out, indent=2))
    engine.dispose()


if __name__ == "__main__":
    main()
