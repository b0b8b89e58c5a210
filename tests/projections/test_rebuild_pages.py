"""A one-pass rebuild hands each view the events of its topics, in log order: the whole
page when every event in it is one of its topics, the page filtered otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, MetaData, Table

from application.store import EventStore
from projections.base import Projection
from projections.runner import ProjectionRunner
from tests.projections.helpers import Item, ItemsView, RenamesView, record_items, rows


class SeenView(Projection):
    """Remembers the positions and types it was handed (no tables of its own)."""

    name = "seen"
    topics = (get_topic(Item.Created), get_topic(Item.Renamed), get_topic(Item.Bumped))

    def __init__(self) -> None:
        self.seen: list[tuple[int, type]] = []

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        self.seen.extend((position, type(event)) for event, position in events)


def test_each_view_gets_its_topics_in_order_from_one_pass(
    store: EventStore, engine: Engine
) -> None:
    ids = record_items(store, 6, changes=3)
    item = Item(name="late")
    for n in range(5):  # pages of nothing but renames at the end of the log
        item.rename(f"late-{n}")
    store.record(item)
    seen = SeenView()
    views: list[Projection] = [ItemsView(), RenamesView(), seen]
    runner = ProjectionRunner(store, engine, views, batch_size=4, rebuild_batch_size=4)

    runner.setup()
    assert runner.rebuild_all() == store.current_position()

    head = store.current_position()
    notes = store.recorder.select_notifications(0, head, stop=head, inclusive_of_start=False)
    assert [p for p, _ in seen.seen] == [n.id for n in notes]  # every event, once, in order
    renames = rows(engine, runner.tables("renames")["renames"])
    assert len(renames) == 6 * 2 + 5  # RenamesView asserts it is handed nothing else
    assert sorted(r[0] for r in rows(engine, runner.tables("items")["items"])) == sorted(
        [*ids, item.id]
    )
