"""The words rule on the column store: one key row per query word, kept per store.

A query word's row is, per rid, MIN(cost * ATTRIBUTE_SLOTS + attr) over the derivations the
document holds and whether one of them is the word itself (the SQL path's `m` CTE). A
common word or a one-letter prefix unions postings covering most of the index (~1M entries
at 100k documents), so rows are kept with the store, keyed by the word's derivations
among the store's postings (what the row is a function of), in a bounded LRU. A query
ranked by relevance also keeps its words' matches in rank order there, so a broad one
walks it to its page as the plain sorts do (`search_columns_broad`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infrastructure.search_columns import ColumnStore, IntArray, Mask, Rids
from infrastructure.search_embedded_text import ATTRIBUTE_SLOTS, Derivation

NO_KEY = 255  # a query word the document does not match
Row = npt.NDArray[np.int16]


@dataclass(frozen=True)
class WordRow:
    """`code[rid]`: key * 2 + (0 if exact else 1); NO_CODE where the word does not match.
    `key`: what the row is a function of (the word's derivations among the postings)."""

    code: Row
    key: tuple[tuple[str, int, int], ...]


NO_CODE = NO_KEY * 2 + 1


def word_rows(store: ColumnStore, derivations: Sequence[Derivation], n_words: int) -> list[WordRow]:
    """Each query word's row, from the store's LRU or built from its postings."""
    by_word: list[list[Derivation]] = [[] for _ in range(n_words)]
    for d in derivations:
        if d.word in store.postings:
            by_word[d.qi].append(d)
    rows: list[WordRow] = []
    for found in by_word:
        key = tuple(sorted((d.word, d.cost, d.exact) for d in found))
        row: WordRow | None = store.word_rows.get(key)
        if row is None:
            row = WordRow(_build(store, found), key)
            store.word_rows.put(key, row)
        rows.append(row)
    return rows


def _build(store: ColumnStore, derivations: Sequence[Derivation]) -> Row:
    keys = np.full(store.size, NO_KEY, np.int16)
    exact = np.zeros(store.size, np.int16)
    parts = []
    for d in derivations:
        rids, attrs = store.postings[d.word]
        parts.append((rids, attrs + np.int16(d.cost * ATTRIBUTE_SLOTS)))
        if d.exact:
            exact[rids] = 1
    if parts:
        np.minimum.at(
            keys, np.concatenate([r for r, _ in parts]), np.concatenate([v for _, v in parts])
        )
    code: Row = keys * 2 + 1 - exact
    code[keys == NO_KEY] = NO_CODE
    return code


def text_mask(rows: Sequence[WordRow]) -> Mask:
    """Documents matching the first query word (matching strategy `last`)."""
    return rows[0].code < NO_CODE


def relevance_key(store: ColumnStore, rows: Sequence[WordRow], matches: IntArray) -> IntArray:
    """The `words DESC, typo ASC, attr ASC, ex DESC` head of the relevance order, packed
    above the tiebreak rank into one int64 per match."""
    return (_head(rows, matches) << 32) + store.tiebreak[matches]


def _head(rows: Sequence[WordRow], matches: IntArray) -> IntArray:
    n_words = len(rows)
    code = np.stack([r.code[matches] for r in rows]).astype(np.int64)
    k = code >> 1
    alive = np.cumprod(k < NO_KEY, axis=0)  # leading words matched
    words = alive.sum(axis=0)
    typo = ((k // ATTRIBUTE_SLOTS) * alive).sum(axis=0)
    attr = ((k % ATTRIBUTE_SLOTS) * alive).sum(axis=0)
    ex = ((1 - (code & 1)) * alive).sum(axis=0)
    head: IntArray = (((n_words - words) * 64 + typo) * 128 + attr) * 16 + (n_words - ex)
    return head


def ranked(store: ColumnStore, rows: Sequence[WordRow]) -> Rids:
    """The rids matching the query's words in relevance order (`relevance_key`'s), for
    broad queries to walk; kept with the rows (same LRU)."""
    key = ("ranked", *(r.key for r in rows))
    found: Rids | None = store.word_rows.get(key)
    if found is None:
        order = store.walks["tiebreak"]
        found = ranked_one(order, rows[0]) if len(rows) == 1 else ranked_heads(order, rows)
        store.word_rows.put(key, found)
    return found


def ranked_heads(order: Rids, rows: Sequence[WordRow]) -> Rids:
    """`ranked` from the tiebreak walk `order` by a stable sort on the head alone: heads
    take few values, so they are renumbered densely and radix-sorted as int16."""
    order = order[text_mask(rows)[order]]
    head = _head(rows, order.astype(np.int64))
    if len(head):
        seen = np.zeros(int(head.max()) + 1, np.bool_)
        seen[head] = True  # dense rank = position among the distinct heads (a
        # cumsum over `seen` cost ~0.4 ms: heads reach ~2**17 for one word)
        head = np.searchsorted(np.flatnonzero(seen), head)
    dense = head.astype(np.int16) if len(head) and head.max() < 2**15 else head
    found: Rids = order[np.argsort(dense, kind="stable")]
    return found


def ranked_one(order: Rids, row: WordRow) -> Rids:
    """`ranked_heads` for one query word: its head (typo, attr, not exact) orders as its
    code does (key * 2 + not exact, key = typo * ATTRIBUTE_SLOTS + attr), so the walk is
    stably sorted on the int16 codes without `_head` (a cold one-letter prefix spent ~0.9 of
    its ~1.6 ms CPU there at 20k documents)."""
    code = row.code[order]
    matched = code < NO_CODE
    order, code = order[matched], code[matched]
    found: Rids = order[np.argsort(code, kind="stable")]
    return found
