"""The seed's mail backlog: one welcome mail per approved listing, sent before measuring.

A 10k-listing seed leaves ~10k `listing_approved` mails in the notification outbox. The
search server's in-process job queue sends them at ~8 ms of CPU each, so for minutes after
start-up ~0.2-0.8 CPU-s/s of the server is that backlog (a py-spy profile of the idle server:
90% of busy samples in `NotificationMailer.send`), not search. `drain` sends them the way the
server's job does (`NotificationMailer.send`, the same outbox states and .eml files), in this
process, before the server starts; after it the server idles as a steady-state one would.
"""

from __future__ import annotations

import time
from typing import Any

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings


def drain(settings: Settings, batch: int = 500) -> dict[str, Any]:
    """Sends every pending outbox mail; returns how many and how long it took."""
    container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
    t0, cpu0 = time.perf_counter(), time.process_time()
    sent = 0
    try:
        wiring = container.notifications
        if wiring is not None:
            while ids := wiring.outbox.pending(batch):
                for outbox_id in ids:
                    wiring.mailer.send(str(outbox_id))
                sent += len(ids)
    finally:
        container.close()
    return {
        "mails_sent": sent,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_ms_per_mail": round(1000 * (time.process_time() - cpu0) / max(1, sent), 2),
    }
