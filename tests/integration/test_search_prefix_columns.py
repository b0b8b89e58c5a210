"""Short prefixes (one and two letters, the broadest text queries) answer from the column
store exactly as the SQL path does: sorts, pages, filters, and a second (cached) ask."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.search import SearchQuery, SearchResult
from tests.contract.conftest import CORPUS
from tests.integration.test_search_columns import (  # noqa: F401 - the fixture
    Pair,
    answer,
    column_pair,
)


def _words() -> list[str]:
    from infrastructure.search_embedded_text import document_terms

    return sorted({w for doc in CORPUS for w in document_terms(doc)})


PREFIXES = sorted({w[:n] for w in _words() for n in (1, 2)})


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(PREFIXES),
    trailing=st.sampled_from(["", " "]),  # " ": the word itself, not a prefix
    sort=st.sampled_from(["relevance", "distance", "price_asc", "newest"]),
    limit=st.integers(0, 40),
    offset=st.sampled_from([0, 2, 7, 30]),
    category=st.sampled_from([None, "stay"]),
    facets=st.booleans(),
)
def test_short_prefixes_answer_as_sql_does(
    pair: Pair, prefix: str, trailing: str, sort: str, limit: int, offset: int, **more: Any
) -> None:
    stored, counted = pair
    query = SearchQuery(q=prefix + trailing, sort=sort, limit=limit, offset=offset, **more)
    expected = answer(counted.search(query))
    first: SearchResult = stored.search(query)
    assert stored.columns.store is not None  # the answer came from the store
    assert answer(first) == expected
    assert answer(stored.search(replace(query))) == expected  # the kept rows and walk
