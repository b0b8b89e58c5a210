"""A one-word query's relevance walk (`ranked_one`, a stable sort on the word's codes) is
the general one (`ranked_heads`, a stable sort on the packed relevance heads)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure.search_columns_text import NO_CODE, NO_KEY, WordRow, ranked_heads, ranked_one

# a matched code is key * 2 + (0 exact, 1 not); NO_CODE where the word does not match
codes = st.one_of(st.integers(0, NO_KEY * 2 - 1), st.just(NO_CODE))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=st.integers(0, 300))
def test_one_word_walk_is_the_heads_walk(data: st.DataObject, size: int) -> None:
    row = WordRow(np.array(data.draw(st.lists(codes, min_size=size, max_size=size)), np.int16), ())
    order = np.array(data.draw(st.permutations(range(size))), np.int64)
    kept = data.draw(st.integers(0, size))  # a walk may skip rids (absent documents)
    order = order[:kept]
    one, heads = ranked_one(order, row), ranked_heads(order, [row])
    assert one.tolist() == heads.tolist()
    assert set(one.tolist()) == {int(r) for r in order if row.code[r] < NO_CODE}


def test_few_codes_keep_the_tiebreak_within_each_code() -> None:
    row = WordRow(np.array([3, 0, NO_CODE, 0, 1, 3], np.int16), ())
    order = np.array([5, 4, 3, 2, 1, 0], np.int64)
    assert ranked_one(order, row).tolist() == [3, 1, 4, 5, 0]
