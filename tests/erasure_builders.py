"""Where erased plaintext could hide: every view table's text, the stored event bytes."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, select

from application.store import EventStore


def view_text(engine: Engine) -> str:
    """Every row of every table of the view database, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def stored_text(store: EventStore) -> str:
    """Every stored event's bytes (state as stored: sealed fields stay sealed)."""
    notes = store.recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)
    return "\n".join(n.state.decode("utf-8", "replace") for n in notes)
