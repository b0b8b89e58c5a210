"""Splitting the views between projection processes so each has about the same work.

One process catches up every view at ~9-10k log events/s, using one core; the views are
independent (each tracks its own position, in the same transaction as its rows), so
processes that own disjoint sets of them can run side by side. The split is by measured
cost, not by count: five views do ~80% of the work and half of them almost none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def cost(name: str) -> float:
    return COST_MS_PER_10K.get(name, UNKNOWN_COST)


def partition(names: Iterable[str], parts: int) -> list[list[str]]:
    """`names` split into `parts` disjoint lists covering them all, heaviest first onto
    the least loaded part (ties to the lower part, so the split is the same in every
    process). Each list keeps the order of `names` (the runner's order). Parts may be
    empty when there are fewer views than parts."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    order = list(dict.fromkeys(names))
    loads = [0.0] * parts
    owner: dict[str, int] = {}
    for name in sorted(order, key=lambda n: (-cost(n), n)):
        part = min(range(parts), key=lambda i: (loads[i], i))
        owner[name] = part
        loads[part] += cost(name)
    return [[name for name in order if owner[name] == part] for part in range(parts)]


def load(names: Iterable[str]) -> float:
    return sum(cost(name) for name in names)
