"""A listing's text may hold one very long "word" (a description of 10,000 letters passes
the API): the embedded search backends index every word in a B-tree, and PostgreSQL refuses
an index row past ~2.7 kB, which stopped the index syncer at that document for everyone.
Words are indexed and queried by their first MAX_WORD_CHARS characters, on both backends."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.search import SearchQuery
from infrastructure.search_embedded_text import MAX_WORD_CHARS, words
from tests.integration.search_embedded_support import ENGINES, doc, engine_for, open_index


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_for(request, tmp_path)


def _word(n: int) -> str:
    letters = random.Random(n)  # random letters: PostgreSQL cannot compress them
    return "".join(letters.choice(string.ascii_lowercase) for _ in range(n))


def test_words_are_cut_to_their_first_characters() -> None:
    long = _word(MAX_WORD_CHARS + 5)
    assert words(f"a {long} b") == ["a", long[:MAX_WORD_CHARS], "b"]


def test_a_ten_thousand_letter_word_is_indexed_and_found(engine: Engine) -> None:
    index = open_index(engine)
    long = _word(10_000)
    index.upsert([doc(1, description=f"nice {long} flat"), doc(2, description="plain")])
    found = index.search(SearchQuery(q=long))
    assert [hit.document["id"] for hit in found.hits] == [doc(1)["id"]]
    plain = index.search(SearchQuery(q="nice flat"))
    assert [hit.document["id"] for hit in plain.hits] == [doc(1)["id"]]
