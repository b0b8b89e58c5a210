"""Words for the embedded search backends: folding, document terms, the vocabulary and
typo expansion, and the keys filter and facet values compare by.

- Text is folded (NFKD, nonspacing marks dropped, lowercased) and split into words: runs of
  Unicode letters and digits. `category_data` leaves count (numbers as `str`, booleans as
  true/false); keys do not. Each document word keeps its best (lowest) attribute.
- A query word expands against the index vocabulary into derivations (word, cost, exact):
  itself (cost 0); words within its typo budget by optimal-string-alignment distance (1 from 5
  letters, 2 from 9), where a changed first letter counts as two typos; and, for the last
  word when the query does not end with a separator, every word that it, or a word within
  its budget, begins (cost of that beginning). Only the first ten query words count.
- Filter values (category, currency, booking mode/unit, amenities) compare by `facet_key`.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

MAX_QUERY_WORDS = 10
# Words count by their first characters, in documents and queries alike: a listing's text
# may hold one 10,000-letter "word", and PostgreSQL refuses B-tree index rows past ~2.7 kB
# (the terms and vocabulary tables), which stopped the index syncer at that document.
MAX_WORD_CHARS = 100
EXPANSIONS_HELD = 4096  # (query word, prefix?) expansions memoised until the vocabulary grows


# Searchable attributes in weight order; a word's attribute is its index here.
ATTRIBUTES = (
    "title",
    "category",
    "category_data",
    "city",
    "country",
    "amenities",
    "description",
)


ATTRIBUTE_SLOTS = 8  # key = cost * ATTRIBUTE_SLOTS + attribute, so one MIN() orders both


_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def facet_key(value: Any) -> str:
    """Filter and facet values compare case-insensitively, as Meilisearch's filters do."""
    return unicodedata.normalize("NFKD", str(value).strip()).lower()


def words(text: str) -> list[str]:
    found: list[str] = _WORD.findall(fold(text))
    if any(len(w) > MAX_WORD_CHARS for w in found):
        return [w[:MAX_WORD_CHARS] for w in found]
    return found


def typo_budget(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


def _flatten(value: Any) -> Iterator[str]:
    """category_data values, depth first in key order; keys are not searchable."""
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _flatten(value[key])
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, str | int | float):
        yield str(value)


def attribute_texts(document: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    for attribute, name in enumerate(ATTRIBUTES):
        value = document.get(name)
        if name == "category_data" or isinstance(value, list):
            yield from ((attribute, text) for text in _flatten(value or {}))
        elif isinstance(value, str):
            yield attribute, value


def document_terms(document: Mapping[str, Any]) -> dict[str, int]:
    """Each word of the document with the best attribute it occurs in."""
    terms: dict[str, int] = {}
    for attribute, text in attribute_texts(document):
        for word in words(text):
            if attribute < terms.get(word, ATTRIBUTE_SLOTS):
                terms[word] = attribute
    return terms


@dataclass(frozen=True)
class Derivation:
    qi: int  # which query word
    word: str  # a vocabulary word it matches
    cost: int  # typos
    exact: int  # 1 when word is the query word itself


def typo_cost(term: str, word: str, distance: int) -> int | None:
    """A typo on the first letter counts as two (Meilisearch), so words of 5-8 letters must
    keep theirs and 9+ may change it only with no other typo."""
    budget = typo_budget(term)
    if word[:1] == term[:1]:
        return distance if distance <= budget else None
    return 2 if distance == 1 and budget == 2 else None


class Vocabulary:
    """An in-process copy of the index's append-only vocabulary table, refreshed by id so a
    query only reads the words added since the last one. Thread-safe.

    A query word's expansion depends only on the vocabulary, which only grows: expansions
    are memoised per (word, prefix) and forgotten whenever words are added (the typo scan
    over the vocabulary was ~0.9 ms of a text query's ~2 ms at 10k documents)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_id = 0
        self._sorted: list[str] = []
        self._by_length: dict[int, list[str]] = {}
        self._prefixes: dict[int, list[str]] = {}  # length -> distinct prefixes, built lazily
        self._expansions: dict[tuple[str, bool], tuple[tuple[str, int], ...]] = {}

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        with self._lock:
            fresh = [(i, w) for i, w in rows if i > self.last_id]
            if not fresh:
                return
            new_words = sorted({w for _, w in fresh} - set(self._sorted))
            if len(new_words) > 64:
                self._sorted = sorted({*self._sorted, *new_words})
            else:
                for word in new_words:
                    bisect.insort(self._sorted, word)
            for word in new_words:
                self._by_length.setdefault(len(word), []).append(word)
            self._prefixes = {}
            self._expansions = {}
            self.last_id = max(self.last_id, max(i for i, _ in fresh))

    def reset(self) -> None:
        with self._lock:
            self.last_id, self._sorted, self._by_length, self._prefixes = 0, [], {}, {}
            self._expansions = {}

    def expand(self, query_words: Sequence[str], *, prefix: bool) -> list[Derivation]:
        """Every vocabulary word each query word matches, at its cheapest cost; with
        `prefix`, the last query word also matches the words it (or a typo of it) begins."""
        with self._lock:
            out: list[Derivation] = []
            for qi, q in enumerate(query_words):
                is_prefix = prefix and qi == len(query_words) - 1
                found = self._expansions.get((q, is_prefix))
                if found is None:
                    found = self._expand_word(q, is_prefix)
                    if len(self._expansions) >= EXPANSIONS_HELD:
                        self._expansions = {}
                    self._expansions[(q, is_prefix)] = found
                out.extend(Derivation(qi, w, c, int(w == q)) for w, c in found)
            return out

    def _expand_word(self, q: str, is_prefix: bool) -> tuple[tuple[str, int], ...]:
        best: dict[str, int] = {q: 0}  # the word itself, whether indexed or not
        budget = typo_budget(q)
        for n in range(max(1, len(q) - budget), len(q) + budget + 1) if budget else ():
            pool = self._prefix_pool(n) if is_prefix else self._by_length.get(n, [])
            for found, distance, _ in process.extract(
                q, pool, scorer=OSA.distance, score_cutoff=budget, limit=None
            ):
                cost = typo_cost(q, found, int(distance))
                if cost is None:
                    continue
                for word in self._starting_with(found) if is_prefix else [found]:
                    if cost < best.get(word, budget + 1):
                        best[word] = cost
        if is_prefix:
            for word in self._starting_with(q):
                best[word] = 0
        return tuple(best.items())

    def _starting_with(self, head: str) -> Iterator[str]:
        i = bisect.bisect_left(self._sorted, head)
        while i < len(self._sorted) and self._sorted[i].startswith(head):
            yield self._sorted[i]
            i += 1

    def _prefix_pool(self, length: int) -> list[str]:
        pool = self._prefixes.get(length)
        if pool is None:
            pool = sorted({w[:length] for w in self._sorted if len(w) >= length})
            self._prefixes[length] = pool
        return pool


def query_terms(q: str) -> tuple[list[str], bool]:
    """The query's words, and whether the last one is a prefix: not when the query ends
    with a separator ("stud " asks for the word "stud")."""
    folded = fold(q)
    return words(q)[:MAX_QUERY_WORDS], bool(folded) and bool(_WORD.fullmatch(folded[-1]))


def amenity_keys(document: Mapping[str, Any]) -> dict[str, str]:
    """Each amenity's key with its first spelling (the facet label)."""
    keys: dict[str, str] = {}
    for amenity in document.get("amenities") or ():
        keys.setdefault(facet_key(amenity), str(amenity))
    return keys


def key_or_none(value: Any) -> str | None:
    return None if value is None else facet_key(value)
