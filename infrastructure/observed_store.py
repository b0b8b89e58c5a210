"""The event store with its saves traced and counted: a `store.record` span per save,
conflicts per command, and payment failures by reason as they are recorded."""

from __future__ import annotations

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.store import EventStore
from application.work_scope import current_scope
from infrastructure import metrics
from infrastructure.tracing import span

_PAYMENT_FAILURES = ("ChargeFailed", "RefundFailed", "UnknownRefundFailed")


class ObservedEventStore(EventStore):
    name = "Rentbook"  # the library derives env prefixes and table names from it

    def record(
        self,
        *aggregates: Aggregate | None,
        grouped: bool = False,
        reads: tuple[Aggregate, ...] = (),
    ) -> int:
        pending = [e for a in aggregates if a is not None for e in a.pending_events]
        failures = [e for e in pending if type(e).__name__ in _PAYMENT_FAILURES]
        with span("store.record", **{"rentbook.events": len(pending)}) as current:
            try:
                position = super().record(*aggregates, grouped=grouped, reads=reads)
            except IntegrityError:
                scope = current_scope()
                metrics.CONFLICTS.labels((scope and scope.command) or "unknown").inc()
                raise
            current.set_attribute("rentbook.position", position)
        for event in failures:
            reason = str(getattr(event, "reason", "") or "unknown")
            metrics.PAYMENT_FAILURES.labels(
                type(event).__name__, metrics.reason_label(reason)
            ).inc()
        return position
