"""A projection as the runner runs it: its live tables, where it stands, and the lock that
pauses it while a rebuild swaps fresh tables in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table

from projections import tracking
from projections.base import Projection


@dataclass
class LiveView:
    projection: Projection
    metadata: MetaData
    tables: dict[str, Table]  # canonical names: what readers query
    lock: threading.RLock = field(default_factory=threading.RLock)  # held per page; rebuild
    position: int = 0
    status: str = tracking.OK
    failures: int = 0
    retry_at: float = 0.0  # monotonic time before which a failed view is left alone
    needs_rebuild: bool = False
    rebuilding: bool = False  # a rebuild runs in a thread of its own (the others go on)
