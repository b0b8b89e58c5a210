"""Sets of rids for the column store's broad queries (issue #9: 100k documents).

A query that matches most of the index should not touch every match: its facets are
counted on packed bitsets (one per frequent facet value; AND with the packed match mask and
popcount, ~size/64 words per value) and its page and price range are found by walking a
precomputed global order until enough rows pass the mask. Rare values keep their rid
lists, counted by gathering the match mask, so memory stays bounded by the index's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]
Bits = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]

DENSE_SHARE = 64  # a value held by more than size/DENSE_SHARE rids gets a bitset


def pack(mask: Mask) -> Bits:
    """A boolean mask as little-endian packed 64-bit words (padding bits are 0)."""
    packed = np.packbits(mask, bitorder="little")
    pad = (-len(packed)) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros(pad, np.uint8)])
    return packed.view(np.uint64)


@dataclass(frozen=True)
class ValueSets:
    """One facet's (key, label) rows grouped by key code: `counts` over a match mask.

    `labels`: per key, the label codes of its rows when the index spells it several ways
    (the facet shows the smallest among the matches); absent when it has one spelling."""

    n_keys: int
    dense_keys: Int32s
    dense_bits: Bits  # (len(dense_keys), words)
    sparse_rids: Int32s
    sparse_keys: Int32s
    several: dict[int, tuple[Int32s, Int32s]]  # key -> (rids, label codes), several spellings

    @property
    def nbytes(self) -> int:
        several = sum(r.nbytes + x.nbytes for r, x in self.several.values())
        arrays = (self.dense_keys, self.dense_bits, self.sparse_rids, self.sparse_keys)
        return int(sum(a.nbytes for a in arrays) + several)

    def counts(self, mask: Mask, packed: Bits) -> Ints:
        out = np.zeros(self.n_keys, np.int64)
        if len(self.dense_keys):
            out[self.dense_keys] = np.bitwise_count(self.dense_bits & packed).sum(axis=1)
        if len(self.sparse_rids):
            hit = self.sparse_keys[mask[self.sparse_rids]]
            out += np.bincount(hit, minlength=self.n_keys)
        return out

    def smallest_label(self, key: int, mask: Mask) -> int:
        rids, labels = self.several[key]
        return int(labels[mask[rids]].min())


def value_sets(
    size: int,
    rids: Int32s,
    keys: Int32s,
    labels: Int32s,
    n_keys: int,
    single: Int32s,
    dense_share: int | None = None,
) -> ValueSets:
    """Rows (rid, key code, label code); `single[key]` < 0 marks keys spelled several ways.
    `dense_share`: DENSE_SHARE unless given."""
    share = DENSE_SHARE if dense_share is None else dense_share
    order = np.lexsort((rids, keys))
    rids, keys, labels = rids[order], keys[order], labels[order]
    held = np.bincount(keys, minlength=n_keys)
    dense = np.flatnonzero(held * share > size).astype(np.int32)
    is_dense = np.zeros(n_keys, np.bool_)
    is_dense[dense] = True
    bits = np.zeros((len(dense), (size + 63) // 64), np.uint64)
    for i, key in enumerate(dense.tolist()):
        on = np.zeros(size, np.bool_)
        on[rids[keys == key]] = True
        bits[i] = pack(on)
    sparse = ~is_dense[keys]
    several = {
        int(k): (rids[keys == k].astype(np.int32), labels[keys == k].astype(np.int32))
        for k in np.flatnonzero(single < 0).tolist()
        if held[k]
    }
    return ValueSets(
        n_keys=n_keys,
        dense_keys=dense,
        dense_bits=bits,
        sparse_rids=rids[sparse].astype(np.int32),
        sparse_keys=keys[sparse].astype(np.int32),
        several=several,
    )


def first_passing(order: Int32s, mask: Mask, wanted: int, expected_share: float) -> Ints:
    """The first `wanted` rids of `order` that pass `mask` (fewer if `order` runs out),
    read in growing chunks sized by the share of rids expected to pass."""
    if wanted <= 0:
        return np.zeros(0, np.int64)
    found: list[Int32s] = []
    have = 0
    start = 0
    chunk = int(wanted / max(expected_share, 1e-9) * 1.5) + 64
    while have < wanted and start < len(order):
        part = order[start : start + chunk]
        hit = part[mask[part]]
        found.append(hit)
        have += len(hit)
        start += len(part)
        chunk *= 2
    out = np.concatenate(found) if found else np.zeros(0, np.int32)
    return out[:wanted].astype(np.int64)


def facet_counts(
    sets: ValueSets,
    label_values: Sequence[str],
    single: Int32s,
    counts: Ints,
    mask: Mask,
    limit: int,
) -> dict[str, int]:
    """Counts per key for the first `limit` keys with matches (codes are in key order),
    shown by the key's one label, or the smallest among the matches when the index spells
    it several ways."""
    out: dict[str, int] = {}
    for code in np.flatnonzero(counts)[:limit].tolist():
        label = int(single[code])
        if label < 0:
            label = sets.smallest_label(code, mask)
        out[label_values[label]] = int(counts[code])
    return out
