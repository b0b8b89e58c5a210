"""Wishlists, for any sequence of commands by two users:
- each wishlist holds exactly the listings a model says, in the order first added, and
  adding or removing twice is the same as once;
- the wishlists view (caught up in small pages) equals the model and a rebuild of itself,
  and answers `in_wishlist` exactly for the listings in the user's live wishlists;
- only the latest share link of a shared, live wishlist opens it: a rotated or revoked
  link never works again."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.context import Actor
from application.link_tokens import LinkTokens
from application.wishlists import SHARE_PURPOSE, Wishlists
from domain.errors import DomainError
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from projections.wishlists import WishlistsView, get_wishlist_row, wishlisted
from tests.builders import NOW, make_world

commands = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1)),
    st.tuples(st.just("add"), st.integers(0, 5), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.integers(0, 5), st.integers(0, 3)),
    st.tuples(st.just("rename"), st.integers(0, 5), st.sampled_from(["Summer", "Later", " x "])),
    st.tuples(st.just("share"), st.integers(0, 5)),
    st.tuples(st.just("unshare"), st.integers(0, 5)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
)


class Model:
    def __init__(self) -> None:
        self.lists: list[dict[str, Any]] = []  # {id, user, listings, shared, gen, deleted, name}
        self.tokens: list[tuple[UUID, str]] = []  # every share token ever issued


def step(
    wishlists: Wishlists, users: list[Actor], listings: list[UUID], m: Model, cmd: tuple[Any, ...]
) -> None:
    name, *args = cmd
    if name == "create":
        user = users[args[0]]
        wid, _ = wishlists.create(user, "Trip", NOW)
        m.lists.append({"id": wid, "user": user, "listings": [], "shared": False, "gen": 0})
        m.lists[-1].update(deleted=False, name="Trip")
        return
    if not m.lists:
        return
    w = m.lists[args[0] % len(m.lists)]
    owner = w["user"]
    with contextlib.suppress(DomainError):  # a deleted wishlist refuses everything (404)
        if name == "add":
            wishlists.add_listing(owner, w["id"], listings[args[1]], NOW)
            if listings[args[1]] not in w["listings"]:
                w["listings"].append(listings[args[1]])
        elif name == "remove":
            wishlists.remove_listing(owner, w["id"], listings[args[1]], NOW)
            if listings[args[1]] in w["listings"]:
                w["listings"].remove(listings[args[1]])
        elif name == "rename":
            wishlists.rename(owner, w["id"], args[1], NOW)
            w["name"] = args[1].strip()
        elif name == "share":
            wishlists.share(owner, w["id"], NOW)
            w["shared"], w["gen"] = True, w["gen"] + 1
            m.tokens.append((w["id"], wishlists.token_for(w["id"], w["gen"])))
        elif name == "unshare":
            wishlists.unshare(owner, w["id"], NOW)
            w["shared"] = False
        elif name == "delete":
            wishlists.delete(owner, w["id"], NOW)
            w.update(deleted=True, shared=False)
    # Another user never sees or changes it.
    stranger = users[1] if owner is users[0] else users[0]
    with contextlib.suppress(DomainError):
        wishlists.add_listing(stranger, w["id"], listings[0], NOW)
        raise AssertionError("a stranger changed someone else's wishlist")


def snapshot(runner: ProjectionRunner, engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            repr(tuple(r))
            for table in runner.tables("wishlists").values()
            for r in conn.execute(select(table))
        )


@settings(max_examples=30, deadline=None)
@given(st.lists(commands, min_size=1, max_size=20))
def test_wishlists_match_the_model_in_aggregates_view_and_links(steps: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(steps, engine)
        finally:
            engine.dispose()


def check(steps: list[Any], engine: Engine) -> None:
    world = make_world()
    wishlists = Wishlists(world.store, world.listings, LinkTokens("property-secret"))
    users = [world.renter, world.owner]
    listings = [world.active_listing() for _ in range(4)]
    runner = ProjectionRunner(world.store, engine, [WishlistsView()], batch_size=2)
    m = Model()
    for cmd in steps:
        step(wishlists, users, listings, m, cmd)
        runner.catch_up()

    tables = runner.tables("wishlists")
    with engine.connect() as conn:
        for w in m.lists:
            row = get_wishlist_row(conn, tables, w["id"])
            if w["deleted"]:
                assert row is None
                continue
            aggregate = wishlists.get(w["user"], w["id"])
            assert [UUID(k) for k in aggregate.listings] == w["listings"]
            assert row is not None and row["name"] == w["name"]
            assert [UUID(i[0]) for i in row["listings"]] == w["listings"]
            assert (row["shared"], row["share_generation"]) == (w["shared"], w["gen"])
        for user in users:
            live = {
                lid
                for w in m.lists
                if w["user"] is user and not w["deleted"]
                for lid in w["listings"]
            }
            assert wishlisted(conn, tables, user.id, listings) == live
    for wid, token in m.tokens:
        w = next(w for w in m.lists if w["id"] == wid)
        current = w["shared"] and token == wishlists.token_for(wid, w["gen"])
        opens = wishlists.verify_share(token, wid, w["gen"]) and w["shared"]
        assert opens == current
        assert not wishlists.tokens.verify(SHARE_PURPOSE, token, listings[0], w["gen"])

    incremental = snapshot(runner, engine)
    runner.rebuild("wishlists")
    assert snapshot(runner, engine) == incremental
