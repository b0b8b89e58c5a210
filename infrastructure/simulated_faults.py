"""Fault injection for the simulated processor: what fails, how often, and the draw.

Every fault is drawn from a hash of (seed, what, attempt), so a run is reproducible whatever
the thread interleaving.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

DECLINING_CARDS = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
}


@dataclass(frozen=True)
class Faults:
    """Per-instance fault injection; rates are probabilities per attempt."""

    seed: int = 0
    decline_rate: float = 0.0
    declined_cards: dict[str, str] = field(default_factory=lambda: dict(DECLINING_CARDS))
    error_rate: float = 0.0  # 5xx before any work
    timeout_rate: float = 0.0  # GatewayTimeout; half of them after the work was done
    lost_reply_rate: float = 0.0  # the work is done, the caller gets GatewayUnavailable
    duplicate_rate: float = 0.0  # a delivery is repeated 1-3 more times
    reorder: bool = False  # each batch of deliveries is shuffled

    def draw(self, what: str, attempt: int) -> float:
        """A number in [0, 1) fixed by the seed, `what` and `attempt`."""
        digest = hashlib.sha256(f"{self.seed}:{what}:{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64
