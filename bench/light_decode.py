"""CPU per event of light events (projections/light.py): this tree's module against another
tree's (`--base`, e.g. a worktree of main), loaded side by side in one process over this
tree's event store and timed alternately (`_side_by_side.py`).

Pages of a seed log (plaintext, as the seed stores them): the events built light, the
Booking.Placed built blind (as a rebuild of views not reading its message builds them), and
the whole log through `decode_events` (light where it may, the mapper for the rest).
Prints µs of CPU per event, the median of `--rounds`.

Run:  PYTHONPATH=. .venv/bin/python bench/light_decode.py --base /work/wt/x-base
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from _event_seed import seed_events
from _side_by_side import alternate, arguments, load_module

from projections import light

PLACED = "domain.booking:Booking.Placed"
BLIND = frozenset({PLACED})


def _runs(module: Any, log: Any, pages: dict[str, list[Any]]) -> dict[str, Callable[[], Any]]:
    return {
        "built_light": lambda: [module.light_event(log, n) for n in pages["built_light"]],
        "placed_blind": lambda: [module.light_event(log, n, BLIND) for n in pages["placed_blind"]],
        "whole_seed_log": lambda: module.decode_events(log, pages["whole_seed_log"]),
    }


def main() -> None:
    args = arguments()
    log, _ = seed_events(args.seed_events, 6)
    notes = log.recorder.select_notifications(start=1, limit=10**9)
    pages = {
        "built_light": [n for n in notes if light.light_event(log, n) is not None],
        "placed_blind": [
            n for n in notes if n.topic == PLACED and light.light_event(log, n, BLIND) is not None
        ],
        "whole_seed_log": notes,
    }
    base = load_module(args.base / "projections/light.py", "base_light")
    runs = {"base": _runs(base, log, pages), "branch": _runs(light, log, pages)}
    for page in pages:  # the same events from both
        assert [vars(e) for e in runs["base"][page]()] == [vars(e) for e in runs["branch"][page]()]
    sizes = {page: len(events) for page, events in pages.items()}
    print(json.dumps(alternate(runs, sizes, args.rounds), indent=2))


if __name__ == "__main__":
    main()
