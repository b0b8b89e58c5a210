"""The rq worker Rentbook runs: one long-lived loop per queue, in a thread or the CLI.

Why not rq's `Worker.work(burst=True)` in a loop: every call bootstraps and tears the worker
down, and the teardown stops rq's pub/sub listener thread, which rq starts with a 60 s poll.
redis-py's `PubSubWorkerThread.stop()` joins that thread without a timeout, and when the
listener has just seen the unsubscribe it parks in `subscribed_event.wait(60)`, so the
teardown (and every job queued behind it) stalled for 60 s. The loop below registers the
worker once, never subscribes, blocks on the queue for at most `poll` seconds (a job starts
as soon as it is pushed; a stop is seen within `poll`), moves due retries from rq's
ScheduledJobRegistry under rq's scheduler lock, and runs rq's registry maintenance.

Handlers belong to the queue that registered them, not to the process: the worker sets
them in a context variable around each job, so two containers in one process (tests) each
run their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from rq import Queue, SimpleWorker
from rq.exceptions import DequeueTimeout
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty

from application.jobs import JobHandler

log = logging.getLogger(__name__)
LISTENER_POLL = 1.0  # seconds: how long stopping rq's pub/sub listener may wait for it
current_handlers: ContextVar[Mapping[str, JobHandler] | None] = ContextVar(
    "rentbook_rq_handlers", default=None
)


class RentbookWorker(SimpleWorker):
    """A SimpleWorker that runs its queue's own handlers and can live outside the main
    thread (no signal handlers there)."""

    # rq 3's default job timeout uses SIGALRM, which only the main thread may set.
    death_penalty_class = TimerDeathPenalty

    def __init__(
        self, queues: list[Queue], *, handlers: Mapping[str, JobHandler], **kwargs: Any
    ) -> None:
        super().__init__(queues, **kwargs)
        self.handlers = handlers

    def execute_job(self, job: Job, queue: Queue) -> None:
        token = current_handlers.set(self.handlers)
        try:
            super().execute_job(job, queue)
        finally:
            current_handlers.reset(token)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()

    def subscribe(self) -> None:
        """rq's, with the listener polling every second instead of every 60 s. Only rq's own
        `work()` subscribes (`rentbook worker`): its teardown joins the listener (see the
        module's docstring), so SIGTERM took up to a minute to stop it, and `docker compose
        stop` kills after 10 s."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=LISTENER_POLL, daemon=True, exception_handler=self._pubsub_exception_handler
        )


class JobLoop:
    """Runs one worker over one queue until `stop` is set (`serve`) or the queue is empty
    (`drain`)."""

    def __init__(self, worker: RentbookWorker, queue: Queue) -> None:
        self.worker = worker
        self.queue = queue
        # rq's scheduler lock keeps two processes from enqueueing the same due retry twice.
        self.scheduler = RQScheduler([queue], connection=queue.connection)

    def serve(self, stop: threading.Event, poll: float = 1.0) -> None:
        timeout = max(1, round(poll))  # rq's BLPOP/BLMOVE timeout is whole seconds
        born = False
        next_tick = 0.0
        try:
            while not stop.is_set():
                try:
                    if not born:  # here, so Redis being down at start is retried too
                        self.worker.register_birth()
                        born = True
                    if time.monotonic() >= next_tick:
                        self._tick()
                        next_tick = time.monotonic() + poll
                    self._run_next(timeout)
                except Exception:  # Redis down or a bug here: log, back off, keep serving
                    log.exception("rq worker loop failed")
                    stop.wait(poll)
        finally:
            self._close()

    def drain(self) -> bool:
        """Runs what is queued (and due retries) in this thread; True if it ran any."""
        self.worker.register_birth()
        worked = False
        try:
            self._tick()
            while self._run_next(None):
                worked = True
        finally:
            self._close()
        return worked

    def _run_next(self, timeout: int | None) -> bool:
        try:
            result = Queue.dequeue_any(
                [self.queue],
                timeout,
                connection=self.queue.connection,
                job_class=self.worker.job_class,
                serializer=self.worker.serializer,
                death_penalty_class=self.worker.death_penalty_class,
            )
        except DequeueTimeout:
            return False
        if result is None:
            return False
        job, queue = result
        self.worker.execute_job(job, queue)
        return True

    def _tick(self) -> None:
        """Due retries back onto the queue, the worker's heartbeat, rq's maintenance."""
        if self.scheduler.acquire_locks():
            try:
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
        self.worker.heartbeat()
        if self.worker.should_run_maintenance_tasks:
            self.worker.clean_registries()

    def _close(self) -> None:
        try:
            self.worker.register_death()
        except Exception:
            log.warning("rq worker could not register its death", exc_info=True)
        connection = self.scheduler._connection  # its own pool; None if never used
        if connection is not None:
            connection.connection_pool.disconnect()
