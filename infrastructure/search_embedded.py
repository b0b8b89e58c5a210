"""What the embedded search backends (SQLite, PostgreSQL) share, and the rules of their answers.

They answer as `tests/search_fake.py` (the Meilisearch reference) does:
- Text is folded (NFKD, nonspacing marks dropped, lowercased) and split into words: runs of
  Unicode letters and digits. `category_data` leaves count (numbers as `str`, booleans as
  true/false); keys do not. Each document word keeps its best (lowest) attribute.
- A query word expands against the index vocabulary into derivations (word, cost, exact):
  itself (cost 0); words within its typo budget by optimal-string-alignment distance (1 from 5
  letters, 2 from 9), where a changed first letter counts as two typos; and, for the last
  word when the query does not end with a separator, every word that it, or a word within
  its budget, begins (cost of that beginning). Only the first ten query words count.
- Relevance is Meilisearch's `words` rule with matching strategy `last`: a document must match
  the first query word and ranks by how many leading query words it matches; over those:
  typos = sum of each word's cheapest derivation, attribute = sum of each word's best
  attribute among its cheapest derivations, exactness = how many occur verbatim; then rating
  desc, created_at desc, id asc. Both backends compute this in SQL from a postings relation
  (word, doc, attr), so only candidates are ranked and the page is cut by ORDER BY/LIMIT.
- Filter values (category, currency, booking mode/unit, amenities) compare by `facet_key`;
  facets count keys and show a stored spelling; `_geoRadius` is whole meters with geoutils'
  haversine; no page reaches past `MAX_TOTAL_HITS`.
- Answers are cached per process, never across a write: `search_meta` holds an epoch and two
  write generations bumped inside every write transaction (any process): `gen_all` on any
  change, `gen_static` only when a change can move a count (a document added or removed, or
  any field but version and blocked days changed, told by a fingerprint). A search reads them
  in its own snapshot; totals, facets and price stats are cached per normalised match set
  under `gen_static` (under `gen_all` when dates filter), pages under `gen_all`. A cached
  total lets the page be one ORDER BY/LIMIT (an index walk for the empty query).

The parts: words and typos (`search_embedded_text.py`), geo maths (`search_embedded_geo.py`),
the ranking SQL (`search_embedded_sql.py`) and answer caching (`search_embedded_cache.py`);
this module keeps the rules for storing documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from application.search import SearchIndexError


def newest_per_id(documents: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """One document per id: the highest version (the later one on a tie)."""
    out: dict[str, Mapping[str, Any]] = {}
    for doc in documents:
        held = out.get(doc["id"])
        if held is None or int(doc["version"]) >= int(held["version"]):
            out[doc["id"]] = doc
    return out


def accepted(doc: Mapping[str, Any], stored: int | None, deleted: int | None) -> bool:
    """Equal versions replace (idempotent replays); a delete at v blocks versions <= v."""
    version = int(doc["version"])
    return (stored is None or version >= stored) and (deleted is None or version > deleted)


def document_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


_ID_KEY = b'"id":"'


def stored_id(body: bytes) -> str | None:
    """The id of a `document_json` body without parsing it (issue #9). Inside a JSON string
    every quote is escaped, so `"id":"` only starts an `id` key with a string value; keys
    are sorted and no field after `id` holds an object (`category_data`, which may, comes
    before it), so the last one is the document's own. None when there is none or it holds
    an escape (the caller parses)."""
    start = body.rfind(_ID_KEY) + len(_ID_KEY)
    end = body.find(b'"', start)
    if start < len(_ID_KEY) or end < 0 or b"\\" in body[start:end]:
        return None
    return body[start:end].decode()


def check_documents(documents: Sequence[Mapping[str, Any]]) -> None:
    """Refuses the whole batch, as a Meilisearch task fails: ids and `_geo` must be valid."""
    for doc in documents:
        if not isinstance(doc.get("id"), str) or not doc["id"]:
            raise SearchIndexError(f"missing_document_id: {doc.get('id')!r}")
        geo = doc.get("_geo")
        lat, lng = (geo.get("lat"), geo.get("lng")) if isinstance(geo, Mapping) else (None, None)
        if not (
            isinstance(lat, int | float)
            and isinstance(lng, int | float)
            and not isinstance(lat, bool)
            and not isinstance(lng, bool)
            and -90 <= lat <= 90
            and -180 <= lng <= 180
        ):
            raise SearchIndexError(f"invalid_document_geo_field: {doc['id']}")
