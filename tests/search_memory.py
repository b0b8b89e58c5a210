"""A minimal in-memory `SearchIndex` for the syncer's tests: versioned writes only.

Honours the port's write contract (a document never replaces a stored one with a higher
version; a delete at v removes documents at or below v and keeps a tombstone, so a late,
older upsert cannot resurrect the listing). `search` is the full fake's job.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from application.search import SearchIndex, SearchIndexError, SearchQuery, SearchResult


class MemorySearchIndex(SearchIndex):
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.tombstones: dict[str, int] = {}
        self.settings_applied = 0
        self.calls: list[str] = []
        self._failures: list[bool] = []  # per upcoming write: True = applied, then failed

    def fail_next(self, *, after_applying: bool = False) -> None:
        """The next write raises `SearchIndexError`; with `after_applying` the backend did
        the work but the acknowledgement was lost."""
        self._failures.append(after_applying)

    def ensure_settings(self) -> None:
        self.calls.append("settings")
        self.settings_applied += 1

    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        self.calls.append("upsert")
        applied = self._maybe_fail()
        for document in documents:
            doc_id, version = document["id"], document["version"]
            stored = self.documents.get(doc_id)
            if stored is not None and stored["version"] > version:
                continue
            if self.tombstones.get(doc_id, -1) >= version:
                continue
            self.documents[doc_id] = copy.deepcopy(document)
        if applied:
            raise SearchIndexError("the task succeeded but its acknowledgement was lost")

    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None:
        self.calls.append("delete")
        applied = self._maybe_fail()
        for doc_id, version in ids_and_versions:
            stored = self.documents.get(doc_id)
            if stored is not None and stored["version"] <= version:
                del self.documents[doc_id]
            self.tombstones[doc_id] = max(self.tombstones.get(doc_id, -1), version)
        if applied:
            raise SearchIndexError("the task succeeded but its acknowledgement was lost")

    def get(self, listing_id: str) -> dict[str, Any] | None:
        document = self.documents.get(listing_id)
        return copy.deepcopy(document) if document is not None else None

    def search(self, query: SearchQuery) -> SearchResult:
        raise NotImplementedError("the full fake lives with the search backends")

    def clear(self) -> None:
        self.calls.append("clear")
        self.documents.clear()
        self.tombstones.clear()

    def _maybe_fail(self) -> bool:
        """Raises now for a plain failure; True when the caller must fail after applying."""
        if not self._failures:
            return False
        if self._failures.pop(0):
            return True
        raise SearchIndexError("the task failed")
