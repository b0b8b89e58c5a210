"""`canonical_postings` collects a rule's lines straight as text (`_Lines`); `postings_for`
collects (account, side, amount) and makes `Posting`s. Whatever the amounts (negative flips
the side, zero drops the line), every rule must give the same lines both ways."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import RULES, Posting, _Postings, canonical_postings
from domain.money import Money

RULE_CLASSES = sorted(RULES, key=lambda cls: cls.__name__)


class _Reads:
    """Learns which fields a rule reads (each read gives 0)."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return 0


def fields_read(cls: type[Any]) -> set[str]:
    probe = _Reads()
    RULES[cls](probe, _Postings("EUR"))
    return probe.read


def event_of(cls: type[Any], draw: st.DrawFn) -> SimpleNamespace:
    values: dict[str, Any] = {"currency": draw(st.sampled_from(["EUR", "USD", "JPY"]))}
    for name in fields_read(cls):
        if name.endswith("_id"):
            values[name] = str(UUID(int=draw(st.integers(0, 2**128 - 1))))
        elif name == "stage":
            values[name] = draw(st.sampled_from(["requested", "sent"]))
        else:
            values[name] = draw(st.integers(-(10**20), 10**20) | st.sampled_from([0, 1, -1]))
    return SimpleNamespace(**values)


@st.composite
def rule_events(draw: st.DrawFn) -> tuple[type[Any], SimpleNamespace]:
    cls = draw(st.sampled_from(RULE_CLASSES))
    return cls, event_of(cls, draw)


@given(rule_events())
def test_canonical_lines_are_the_postings_canonical_text(case: tuple[type[Any], Any]) -> None:
    cls, event = case
    collected = _Postings(event.currency)
    RULES[cls](event, collected)
    postings = [Posting(a, side, Money(n, event.currency)) for a, side, n in collected.lines]

    lines = canonical_postings(cls, event)

    assert lines == [p.canonical() for p in postings]
    assert all(p.money.amount > 0 for p in postings)


def test_every_rule_reads_some_amount() -> None:
    assert all(fields_read(cls) - {"currency"} for cls in RULE_CLASSES)
