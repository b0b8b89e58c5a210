"""The reviews view: one row per review, and rating sums per reviewed listing and user.

A review's row is written when it is submitted but every query keeps to published, not
hidden rows, so nobody reads a review before its publication. Ratings are integer sums and
counts per subject ("listing", or "user" as the reviewed party) and per category: publishing
adds a review to them, hiding takes it out. Averages are computed when read, so a rebuild
equals incremental processing. A review row's `version` is the version of its booking's
reviews aggregate last applied to it: a replayed event changes neither it nor the sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    select,
    update,
)

from domain.personal_data import PERSONAL_EVENTS
from domain.review import RENTER, average
from domain.review import BookingReviews as _BookingReviews
from projections.base import Projection, Replay, upsert
from projections.folding import load_rows
from projections.listings import JSONType, newest_first_page, parse_instant, rfc3339

# @event classes are made at runtime, where mypy cannot see them.
BookingReviews: Any = _BookingReviews

EVENTS = (
    BookingReviews.Submitted,
    BookingReviews.Published,
    BookingReviews.Replied,
    BookingReviews.Hidden,
)
TOPICS = tuple(get_topic(cls) for cls in EVENTS)
RATING_EVENTS = (BookingReviews.Published, BookingReviews.Hidden)  # what moves a rating
LISTING, USER = "listing", "user"


class ReviewsView(Projection):
    name = "reviews"
    topics = TOPICS
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        reviews = Table(
            f"reviews{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("booking_id", Uuid, nullable=False, index=True),
            Column("listing_id", Uuid, nullable=False),
            Column("side", String(10), nullable=False),
            Column("reviewer_id", Uuid, nullable=False),
            Column("reviewee_id", Uuid, nullable=False),
            Column("rating", Integer, nullable=False),
            Column("comment", Text, nullable=False),
            Column("category_ratings", JSONType, nullable=False),
            Column("submitted_at", DateTime(timezone=True), nullable=False),
            Column("published_at", DateTime(timezone=True)),
            Column("hidden", Boolean, nullable=False),
            Column("hidden_reason", Text),
            Column("reply", Text),
            Column("replied_at", DateTime(timezone=True)),
        )
        # The two lists, newest first.
        Index(None, reviews.c.listing_id, reviews.c.side, reviews.c.published_at, reviews.c.id)
        Index(None, reviews.c.reviewee_id, reviews.c.published_at, reviews.c.id)
        ratings = Table(
            f"review_ratings{suffix}",
            metadata,
            Column("subject_kind", String(10), primary_key=True),
            Column("subject_id", Uuid, primary_key=True),
            Column("count", Integer, nullable=False),
            Column("total", BigInteger, nullable=False),
        )
        categories = Table(
            f"review_category_ratings{suffix}",
            metadata,
            Column("subject_kind", String(10), primary_key=True),
            Column("subject_id", Uuid, primary_key=True),
            Column("category", String(40), primary_key=True),
            Column("count", Integer, nullable=False),
            Column("total", BigInteger, nullable=False),
        )
        return {"reviews": reviews, "ratings": ratings, "categories": categories}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        ours: list[Any] = [e for e, _ in events if isinstance(e, EVENTS)]
        if not ours:
            return
        ids = {rid for e in ours for rid in _review_ids(e)}
        rows = load_rows(conn, tables["reviews"], ids)
        changed: set[UUID] = set()
        sums: dict[tuple[str, UUID], list[int]] = {}
        category_sums: dict[tuple[str, UUID, str], list[int]] = {}
        for event in ours:
            for row, sign in fold(rows, event):
                rows[row["id"]] = row
                changed.add(row["id"])
                for subject in subjects(row) if sign else []:
                    _add(sums, subject, sign, row["rating"])
                    for name, value in row["category_ratings"].items():
                        _add(category_sums, (*subject, name), sign, value)
        upsert(conn, tables["reviews"], [rows[i] for i in sorted(changed)], newer="version")
        _apply_sums(conn, tables["ratings"], ("subject_kind", "subject_id"), sums)
        _apply_sums(
            conn, tables["categories"], ("subject_kind", "subject_id", "category"), category_sums
        )

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        """The subject's comments, and their replies (only the owner, the reviewee of a
        renter's review, replies), read as erased; ratings are not personal."""
        table = tables["reviews"]
        conn.execute(
            update(table).where(table.c.reviewer_id == subject).values(comment=_ERASED_COMMENT)
        )
        replied = (table.c.side == RENTER, table.c.reviewee_id == subject)
        conn.execute(
            update(table)
            .where(*replied, table.c.replied_at.is_not(None))
            .values(reply=_ERASED_REPLY)
        )
        return True


_ERASED_COMMENT = PERSONAL_EVENTS[get_topic(BookingReviews.Submitted)].fields["comment"]
_ERASED_REPLY = PERSONAL_EVENTS[get_topic(BookingReviews.Replied)].fields["text"]


def _review_ids(event: Any) -> list[UUID]:
    if isinstance(event, BookingReviews.Published):
        return [r["review_id"] for r in event.ratings]
    return [event.review_id]


def fold(rows: dict[UUID, dict[str, Any]], event: Any) -> list[tuple[dict[str, Any], int]]:
    """The review rows `event` changes, each with +1 when it enters the rating sums (its
    publication), -1 when it leaves them (hidden), 0 otherwise. Already applied: none."""
    version, at = event.originator_version, parse_instant(event.at)
    if isinstance(event, BookingReviews.Submitted):
        if event.review_id in rows:
            return []
        new = {
            "id": event.review_id,
            "version": version,
            "booking_id": event.booking_id,
            "listing_id": event.listing_id,
            "side": event.side,
            "reviewer_id": event.reviewer_id,
            "reviewee_id": event.reviewee_id,
            "rating": event.rating,
            "comment": event.comment,
            "category_ratings": dict(event.category_ratings),
            "submitted_at": at,
            "published_at": None,
            "hidden": False,
            "hidden_reason": None,
            "reply": None,
            "replied_at": None,
        }
        return [(new, 0)]
    out = []
    for review_id in _review_ids(event):
        known = rows.get(review_id)
        if known is None or known["version"] >= version:
            continue
        row = {**known, "version": version}
        sign = 0
        if isinstance(event, BookingReviews.Published):
            row["published_at"], sign = at, 1
        elif isinstance(event, BookingReviews.Replied):
            row.update(reply=event.text, replied_at=at)
        elif isinstance(event, BookingReviews.Hidden):
            sign = -1 if row["published_at"] is not None and not row["hidden"] else 0
            row.update(hidden=True, hidden_reason=event.reason)
        out.append((row, sign))
    return out


def subjects(row: dict[str, Any]) -> list[tuple[str, UUID]]:
    """Who a review rates: the reviewed user, and the listing when the renter wrote it."""
    found = [(USER, row["reviewee_id"])]
    if row["side"] == RENTER:
        found.append((LISTING, row["listing_id"]))
    return found


def listing_rating_change(event: Any) -> tuple[UUID, int, int] | None:
    """(listing, change of review count, change of rating total) an event makes to a
    listing's rating, for views that keep a listing's rating beside other data."""
    if isinstance(event, BookingReviews.Published):
        renter = [r["rating"] for r in event.ratings if r["side"] == RENTER]
        return (event.listing_id, len(renter), sum(renter)) if renter else None
    if isinstance(event, BookingReviews.Hidden) and event.side == RENTER:
        return event.listing_id, -1, -event.rating
    return None


def _add(sums: dict[Any, list[int]], key: Any, sign: int, value: int) -> None:
    entry = sums.setdefault(key, [0, 0])
    entry[0] += sign
    entry[1] += sign * value


def _apply_sums(
    conn: Connection, table: Table, key: tuple[str, ...], sums: dict[Any, list[int]]
) -> None:
    if not sums:
        return
    found: dict[tuple[Any, ...], tuple[int, int]] = {}
    by_kind: dict[str, set[UUID]] = {}
    for k in sums:
        by_kind.setdefault(k[0], set()).add(k[1])
    for kind, ids in by_kind.items():
        stmt = select(table).where(table.c.subject_kind == kind, table.c.subject_id.in_(ids))
        for r in conn.execute(stmt).mappings():
            found[tuple(r[c] for c in key)] = (r["count"], r["total"])
    rows = []
    for k, (count, total) in sorted(sums.items(), key=lambda kv: tuple(map(str, kv[0]))):
        was_count, was_total = found.get(k, (0, 0))
        rows.append({**dict(zip(key, k, strict=True)), "count": was_count + count})
        rows[-1]["total"] = was_total + total
    upsert(conn, table, rows)


# -- queries -------------------------------------------------------------------------------


def review_row_public(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "booking_id": str(row["booking_id"]),
        "listing_id": str(row["listing_id"]),
        "side": row["side"],
        "reviewer_id": str(row["reviewer_id"]),
        "reviewee_id": str(row["reviewee_id"]),
        "rating": row["rating"],
        "comment": row["comment"],
        "category_ratings": dict(row["category_ratings"]),
        "status": "published",
        "submitted_at": rfc3339(row["submitted_at"]),
        "published_at": rfc3339(row["published_at"]),
        "reply": row["reply"],
        "replied_at": rfc3339(row["replied_at"]),
    }


def list_reviews(
    conn: Connection,
    tables: Any,
    *,
    listing_id: UUID | None = None,
    reviewee_id: UUID | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Published, not hidden reviews of a listing (written by its renters) or of a user
    (as the reviewed party), newest published first."""
    table = tables["reviews"]
    where: list[Any] = [table.c.published_at.is_not(None), table.c.hidden.is_(False)]
    if listing_id is not None:
        where += [table.c.listing_id == listing_id, table.c.side == RENTER]
    if reviewee_id is not None:
        where.append(table.c.reviewee_id == reviewee_id)
    rows, next_cursor = newest_first_page(conn, table, where, limit, cursor, at="published_at")
    return [review_row_public(r) for r in rows], next_cursor


def rating_summary(conn: Connection, tables: Any, kind: str, subject_id: UUID) -> dict[str, Any]:
    """{count, average, categories: {name: average}} of a listing or a user's published,
    not hidden reviews (zeros when there are none)."""
    ratings, categories = tables["ratings"], tables["categories"]
    where = (ratings.c.subject_kind == kind, ratings.c.subject_id == subject_id)
    row = conn.execute(select(ratings).where(*where)).mappings().first()
    stmt = (
        select(categories)
        .where(categories.c.subject_kind == kind, categories.c.subject_id == subject_id)
        .order_by(categories.c.category)
    )
    per_category = {
        r["category"]: average(r["total"], r["count"])
        for r in conn.execute(stmt).mappings()
        if r["count"]
    }
    count = row["count"] if row else 0
    return {
        "count": count,
        "average": average(row["total"], count) if row else 0.0,
        "categories": per_category,
    }


def listing_rating(conn: Connection, tables: Any, listing_id: UUID) -> dict[str, Any]:
    return rating_summary(conn, tables, LISTING, listing_id)


def user_review_summary(conn: Connection, tables: Any, user_id: UUID) -> dict[str, Any]:
    """{count, average, categories} of the reviews a user received (as renter or owner),
    for their public profile."""
    return rating_summary(conn, tables, USER, user_id)
