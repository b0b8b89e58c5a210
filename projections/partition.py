"""Splitting the views between projection processes so each has about the same work.

One process catches up every view at ~9-10k log events/s, using one core; the views are
independent (each tracks its own position, in the same transaction as its rows), so
processes that own disjoint sets of them can run side by side. The split is by measured
cost, not by count (five views do ~80% of the work, half of them almost none), and keeps
views of the same aggregates together: each process reads and decodes the events of its
views' aggregates, so views of bookings split across two processes decode bookings twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from projections.base import Projection

# CPU-ms per 10,000 log events of a catch-up from zero, this process's plus PostgreSQL's,
# on the bench's event mix (bench/projection_rebuild.py, 40k events, 2026-12-06g quiet
# runs: each view's catch-up alone, plus its backend's CPU measured in the rebuild).
# Views barely fed by that mix (disputes, reviews...) cost more on real traffic; their
# share stays small next to the folds below.
COST_MS_PER_10K: Mapping[str, float] = {
    "audit": 260,
    "notifications": 232,
    "search_documents": 215,
    "availability": 208,
    "deadlines": 197,
    "bookings": 188,
    "profiles": 156,
    "conversations": 131,
    "payments": 98,
    "analytics": 58,
    "orders": 46,
    "listings": 16,
    "disputes": 8,
    "ledger": 8,
    "reviews": 6,
    "review_deadlines": 6,
    "coupons": 6,
    "wishlists": 6,
    "media": 4,
    "calendar_feeds": 4,
}
UNKNOWN_COST = 50.0  # a view added since the figures: a middling guess
# Reading and decoding one aggregate's events, paid once by every process with a view of
# them: in the bench's mix calendars and bookings are ~48% of the log each. Calibrated on
# the split by view cost alone (both processes decoded everything: +0.3-0.46 CPU-s per 10k
# log events, loaded) against one by aggregate (+0.05-0.17): bench/README.md, task PJ.
FAMILY_MS_PER_10K: Mapping[str, float] = {
    "ListingCalendar": 360,
    "Booking": 350,
    "Listing": 30,
    "User": 6,
}
OTHER_FAMILY = 6.0
READ_ALL_MS = 100.0  # a view of every event (audit) reads the whole log, stored


def topics_of(projections: Iterable[Projection]) -> dict[str, list[str]]:
    """name -> topics of each projection, in the runner's order: what `partition` splits."""
    return {p.name: list(p.topics) for p in projections}


def cost(name: str) -> float:
    return COST_MS_PER_10K.get(name, UNKNOWN_COST)


def family(topic: str) -> str:
    """The aggregate class of an event topic: `domain.booking:Booking.Confirmed` ->
    `Booking`."""
    return topic.rsplit(".", 1)[0].rsplit(":", 1)[-1]


def load(views: Mapping[str, Iterable[str]]) -> float:
    """What one process running `views` (name -> topics; none: every event) costs: each
    view's own work, plus reading and decoding each aggregate's events once."""
    families: set[str] = set()
    reads_all = False
    for topics in views.values():
        topics = list(topics)
        reads_all = reads_all or not topics
        families.update(family(t) for t in topics)
    shared = sum(FAMILY_MS_PER_10K.get(f, OTHER_FAMILY) for f in families)
    return sum(cost(name) for name in views) + shared + (READ_ALL_MS if reads_all else 0.0)


def partition(views: Mapping[str, Iterable[str]], parts: int) -> list[list[str]]:
    """The views (name -> topics) split into `parts` disjoint lists covering them all, the
    costliest process as cheap as it can be made, then the processes' sum: heaviest view
    first onto the part it adds least to, then single moves while one improves. The same
    in every process (no randomness; ties to the lower part); each list keeps the order of
    `views`. Parts may be empty when there are fewer views than parts."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    topics = {name: list(t) for name, t in views.items()}
    split: list[list[str]] = [[] for _ in range(parts)]
    for name in sorted(topics, key=lambda n: (-cost(n), n)):
        best = min(range(parts), key=lambda i: (_load(topics, [*split[i], name]), i))
        split[best].append(name)
    while (better := _better_move(topics, split)) is not None:
        split = better
    return [[name for name in topics if name in part] for part in split]


def score(views: Mapping[str, Iterable[str]], split: list[list[str]]) -> tuple[float, float]:
    """(costliest process, sum over processes): what `partition` makes small, in order."""
    topics = {name: list(t) for name, t in views.items()}
    loads = [_load(topics, part) for part in split]
    return max(loads, default=0.0), sum(loads)


def _load(topics: Mapping[str, list[str]], names: list[str]) -> float:
    return load({name: topics[name] for name in names})


def _better_move(topics: Mapping[str, list[str]], split: list[list[str]]) -> list[list[str]] | None:
    current = score(topics, split)
    for src, part in enumerate(split):
        for name in part:
            for dst in range(len(split)):
                if dst == src:
                    continue
                moved = [list(p) for p in split]
                moved[src].remove(name)
                moved[dst].append(name)
                if score(topics, moved) < current:
                    return moved
    return None
