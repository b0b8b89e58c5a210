"""The vocabulary's memoised expansions: the same as a fresh vocabulary's, and never stale
after words are added (the memo is forgotten whenever the vocabulary grows)."""

from __future__ import annotations

from infrastructure.search_embedded_text import Derivation, Vocabulary


def vocabulary(*words: str) -> Vocabulary:
    v = Vocabulary()
    v.add((i, w) for i, w in enumerate(words, start=1))
    return v


def expanded(v: Vocabulary, *query: str, prefix: bool = False) -> set[tuple[int, str, int, int]]:
    return {(d.qi, d.word, d.cost, d.exact) for d in v.expand(list(query), prefix=prefix)}


def test_a_memoised_expansion_equals_a_fresh_one() -> None:
    words = ("garden", "gardens", "harden", "studio", "study", "sturdy")
    v = vocabulary(*words)
    first = expanded(v, "garden", "stud", prefix=True)
    assert first == expanded(v, "garden", "stud", prefix=True)
    assert first == expanded(vocabulary(*words), "garden", "stud", prefix=True)
    assert (1, "studio", 0, 0) in first and (0, "gardens", 1, 0) in first


def test_a_word_added_after_an_expansion_is_found_by_the_next_one() -> None:
    v = vocabulary("garden", "studio")
    assert expanded(v, "gardan") == {(0, "gardan", 0, 1), (0, "garden", 1, 0)}
    assert (0, "stud", 0, 1) in expanded(v, "stud", prefix=True)
    v.add([(3, "gardon"), (4, "studs")])
    assert expanded(v, "gardan") == {
        (0, "gardan", 0, 1),
        (0, "garden", 1, 0),
        (0, "gardon", 1, 0),
    }
    assert (0, "studs", 0, 0) in expanded(v, "stud", prefix=True)


def test_reset_forgets_the_expansions() -> None:
    v = vocabulary("garden")
    assert Derivation(0, "garden", 1, 0) in v.expand(["gardan"], prefix=False)
    v.reset()
    assert v.expand(["gardan"], prefix=False) == [Derivation(0, "gardan", 0, 1)]
