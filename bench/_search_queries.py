"""The query mix `search.py` measures: a deterministic blend of text (with typos), filter,
geo and dated searches, and the asyncio httpx clients that send it."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import ROOT  # noqa: F401  (puts the repository on sys.path)

from application.demo import TEMPLATES

API = "/api/v1"

WORDS = sorted(
    {w.lower().strip(",") for t in TEMPLATES for title in t.titles for w in title.split()}
    - {"a", "for", "with", "the", "by", "in", "of"}
)


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def query_mix(
    cities: list[tuple[Any, ...]], count: int, seed_: int = 7
) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed_)
    today = datetime.now(UTC).date()
    out: list[tuple[str, dict[str, Any]]] = []
    for _ in range(count):
        city = rng.choice(cities)
        roll = rng.random()
        if roll < 0.3:
            words = rng.sample(WORDS, rng.choice((1, 1, 2)))
            if rng.random() < 0.3:
                words[0] = typo(words[0], rng)
            if rng.random() < 0.3:
                words.append(city[0].split()[0].lower())
            out.append(("text", {"q": " ".join(words)}))
        elif roll < 0.55:
            params: dict[str, Any] = {"category": rng.choice(TEMPLATES).category}
            if rng.random() < 0.5:
                params.update(currency="EUR", max_price=rng.choice((5_000, 10_000, 20_000)))
            if rng.random() < 0.4:
                params["guests"] = rng.randint(2, 6)
            if rng.random() < 0.4:
                params["amenities"] = rng.choice(("wifi", "kitchen", "gps", "showers"))
            if rng.random() < 0.3:
                params["instant_book"] = "true"
            params["sort"] = rng.choice(("relevance", "price_asc", "rating", "newest"))
            out.append(("filters", params))
        elif roll < 0.8:
            params = {"lat": city[2], "lng": city[3], "radius_km": rng.choice((5, 10, 25, 50))}
            params["sort"] = "distance"
            if rng.random() < 0.5:
                params["category"] = rng.choice(TEMPLATES).category
            out.append(("geo", params))
        else:
            start = today + timedelta(days=rng.randint(14, 120))
            params = {
                "start": start.isoformat(),
                "end": (start + timedelta(days=rng.randint(1, 7))).isoformat(),
                "lat": city[2],
                "lng": city[3],
                "radius_km": 25,
            }
            if rng.random() < 0.5:
                params["category"] = rng.choice(("stay", "vehicle", "equipment"))
            if rng.random() < 0.3:
                del params["lat"], params["lng"], params["radius_km"]
                params["q"] = rng.choice(WORDS)
            out.append(("dates", params))
    return out


async def run_queries(
    base: str, queries: list[tuple[str, dict[str, Any]]], clients: int
) -> dict[str, Any]:
    import httpx

    counter = itertools.count()
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while (i := next(counter)) < len(queries):
                kind, params = queries[i]
                t0 = time.perf_counter()
                try:
                    r = await client.get(f"{API}/search/listings", params=params)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - t0
                if r.status_code != 200:
                    errors[f"{r.status_code} {r.text[:120]}"] += 1
                    continue
                by_kind[kind].append(elapsed)
                if r.json()["data"]:
                    hits[kind] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        seconds = time.perf_counter() - t0
    return {"by_kind": by_kind, "seconds": seconds, "errors": dict(errors), "hits": hits}
