"""Top frames of a py-spy raw profile (collapsed stacks: `frame;frame;... count`), as JSON.

`self` counts samples whose innermost frame is the frame; `inclusive` counts samples with the
frame anywhere on the stack (once per sample). Idle samples (a thread waiting in the event loop
selector or in the thread pool's queue) are dropped, so shares are of busy server time.

    python bench/spy_top.py /tmp/http.txt --top 10
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

_IDLE = re.compile(r"select \(selectors\.py|_worker \(concurrent/futures/thread\.py:\d+\)$|"
                   r"wait \(threading\.py|get \(queue\.py")  # fmt: skip


_OURS = re.compile(r"\((domain|application|projections|interfaces|infrastructure)/")


def _frames(stack: str) -> list[str]:
    # Each frame reads `func (path:line)`; the line number makes one function many frames.
    return [re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if f]


def top(path: Path, n: int) -> dict[str, object]:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    busy = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = _frames(stack)
        if not frames or _IDLE.search(stack.rsplit(";", 1)[-1]):
            idle += int(count)
            continue
        busy += int(count)
        self_[frames[-1]] += int(count)
        for f in set(frames):
            inclusive[f] += int(count)

    def share(c: Counter[str]) -> list[dict[str, object]]:
        return [
            {"frame": f, "samples": k, "pct": round(100 * k / busy, 1)} for f, k in c.most_common(n)
        ]

    ours = Counter({f: k for f, k in inclusive.items() if _OURS.search(f)})
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "top_self": share(self_),
        "top_inclusive": share(inclusive),
        "top_inclusive_rentbook": share(ours),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("profile", type=Path)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    print(json.dumps(top(args.profile, args.top), indent=2))


if __name__ == "__main__":
    main()
