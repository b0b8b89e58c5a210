"""CPU per event of the personal-data mapper's page decode: this tree's mapper and
transcoder against another tree's (`--base`, e.g. a worktree of main), loaded side by side
in one process and timed alternately, so the machine's load hits both alike.

Pages: the Booking.Placed of a seed log (plaintext, as the seed stores them), the same
sealed (as production stores them), and the whole seed log. Prints µs of CPU per event,
the median of `--rounds`.

Run:  PYTHONPATH=. .venv/bin/python bench/mapper_decode.py --base /work/wt/x-base
"""

from __future__ import annotations

import json
import tempfile
from functools import partial
from typing import Any

from _event_seed import seed_events
from _side_by_side import alternate, arguments, load_module
from eventsourcing.persistence import StoredEvent

from application.store import EventStore
from infrastructure.master_keys import MasterKeys
from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine

PLACED = "domain.booking:Booking.Placed"


def main() -> None:
    args = arguments()
    seed, _ = seed_events(args.seed_events, 6)
    notes = seed.recorder.select_notifications(start=1, limit=10**9)
    log = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notes]
    engine = create_views_engine(f"sqlite:///{tempfile.mkdtemp()}/keys.db")
    ring = SqlKeyRing(engine, MasterKeys({"bench": bytes(32)}))
    new = EventStore({"PERSISTENCE_MODULE": "eventsourcing.popo"}, keyring=ring).mapper
    transcoding = load_module(args.base / "application/event_transcoder.py", "base_transcoder")
    transcoder = transcoding.EventTranscoder()
    for each in new.transcoder.names.values():  # type: ignore[attr-defined]
        transcoder.register(each)
    mapping = load_module(args.base / "application/personal_mapper.py", "base_mapper")
    base = mapping.PersonalDataMapper(transcoder, ring)
    plain = [s for s in log if s.topic == PLACED]
    pages = {
        "placed_plaintext": plain,
        "placed_sealed": [new.to_stored_event(new.to_domain_event(s)) for s in plain],
        "whole_seed_log": log,
    }
    mappers: dict[str, Any] = {"base": base, "branch": new}
    for events in pages.values():  # the same events, and every key cached
        decoded = [[vars(e) for e in m.to_domain_events(events)] for m in mappers.values()]
        assert decoded[0] == decoded[1]
    del decoded
    runs = {
        name: {page: partial(mapper.to_domain_events, events) for page, events in pages.items()}
        for name, mapper in mappers.items()
    }
    sizes = {page: len(events) for page, events in pages.items()}
    print(json.dumps(alternate(runs, sizes, args.rounds), indent=2))
    engine.dispose()


if __name__ == "__main__":
    main()
