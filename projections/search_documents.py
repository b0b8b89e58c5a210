"""The search documents view: one row per listing as the search index should hold it, plus
the calendar state that says which keys are fully blocked. The index syncer
(`application/search_sync.py`) reads it and keeps the search index in step.

Its pieces, one responsibility each:
- `search_documents_view.py`: the view (`SearchDocumentsView`): its tables, topics and version;
- `search_documents_page.py`: folding a page of listing, review and calendar events into rows
  and fully-blocked keys (how a row's `position` is kept independent of paging is told there);
- `search_documents_queries.py`: reading rows with their blocked keys (`changed_since`,
  `all_rows`, `blocked_keys`);
- `search_documents_reader.py`: `ViewSearchDocuments`, the syncer's `SearchDocumentSource`;
- `search_sync_state.py`: the syncer's saved state (position, generation, applied position).

This module keeps the names other modules import.
"""

from __future__ import annotations

from projections.search_documents_queries import all_rows, blocked_keys, changed_since
from projections.search_documents_reader import ViewSearchDocuments
from projections.search_documents_view import SearchDocumentsView

__all__ = [
    "SearchDocumentsView",
    "ViewSearchDocuments",
    "all_rows",
    "blocked_keys",
    "changed_since",
]
