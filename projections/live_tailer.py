"""One tail of the event log per process: reads events as they are recorded, routes them
(`projections/live_routes.py`) and hands each page's deliveries to the attached sinks (the
SSE hubs of this process). Connections never poll the log; only a reconnecting client reads
it, once, for what it missed (`replay`).

The tail moves in whole pages up to the log's head, and a sink is attached under the same
lock that publishes a page, so a sink hears exactly the pages after the position `attach`
returns: the replay up to that position plus the live pages leave no gap and no duplicate.
PostgreSQL commits events in notification order (the library locks the table), so the head
never has holes below it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from projections.event_log import EventLog
from projections.live_routes import Channel, Delivery, Router

log = logging.getLogger(__name__)

Sink = Callable[[int, list[Delivery]], None]  # (position now reached, its deliveries)


class LiveTailer:
    def __init__(
        self,
        log: EventLog,
        router: Router,
        *,
        page_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.log = log
        self.router = router
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.position = 0
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self.position = self.log.current_position()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="live-tail", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def wake(self, *_: Any) -> None:
        """Something was recorded (in this process, or NOTIFY from another)."""
        self._wake.set()

    def attach(self, sink: Sink) -> int:
        """Starts the tail if needed; `sink` hears every page after the returned position.
        A sink runs on the tail's thread and must not block."""
        self.start()
        with self._lock:
            self._sinks.append(sink)
            return self.position

    def detach(self, sink: Sink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    # -- following ---------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                more = self.step()
                failures = 0
            except Exception:
                log.warning("live tail failed at %s; retrying", self.position, exc_info=True)
                failures += 1
                self._stop.wait(min(self.max_backoff, 0.2 * 2**failures))
                continue
            if not more:
                self._wake.wait(self.poll_interval)

    def step(self) -> bool:
        """Publishes at most one page; True if there is more to read now."""
        start, head = self.position, self.log.current_position()
        if head <= start:
            return False
        notes = self.log.recorder.select_notifications(
            start, self.page_size, stop=head, topics=self.router.topics, inclusive_of_start=False
        )
        full = len(notes) == self.page_size
        reached = notes[-1].id if full else head
        deliveries = self._route(notes, None)
        with self._lock:
            self.position = reached
            for sink in list(self._sinks):
                try:
                    sink(reached, deliveries)
                except Exception:  # one broken hub must not stop the others
                    log.exception("live sink failed")
        return full

    def _route(self, notes: Any, kind: str | None) -> list[Delivery]:
        origins = self.router.origins
        to_event = self.log.mapper.to_domain_event
        out: list[Delivery] = []
        for note in notes:
            event = to_event(note)
            if origins is not None:
                origins.learn(event)
            out.extend(self.router.route(event, note.topic, note.id, kind))
        return out

    # -- replay ------------------------------------------------------------------------

    def replay(self, channel: Channel, after: int, upto: int) -> list[Delivery]:
        """What `channel` was told in (after, upto], in log order (read from the log)."""
        topics = list(self.router.topics_for(channel[0]))
        found: list[Delivery] = []
        position = after
        while position < upto and topics:
            notes = self.log.recorder.select_notifications(
                position, self.page_size, stop=upto, topics=topics, inclusive_of_start=False
            )
            found.extend(d for d in self._route(notes, channel[0]) if d.channel == channel)
            if len(notes) < self.page_size:
                break
            position = notes[-1].id
        return found
