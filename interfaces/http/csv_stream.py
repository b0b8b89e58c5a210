"""Streamed CSV: RFC 4180 (the csv module's quoting, CRLF line ends), UTF-8, one chunk per
few hundred rows, and money as decimal strings beside a currency column.

Money in CSV: spreadsheets want `123.45`, not `12345`; the currency column says which
currency and so how many decimals (ISO 4217 minor units: domain.money.EXPONENTS). JSON
endpoints keep integer minor units.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from fastapi.responses import StreamingResponse

from domain.money import major_units
from projections.listings import rfc3339

CHUNK_ROWS = 500
MEDIA_TYPE = "text/csv; charset=utf-8"
# Minor units as a decimal string in the currency's own precision: 12345 EUR → 123.45.
decimal_amount = major_units


def instant(value: datetime | None) -> str | None:
    """RFC 3339 in UTC; the csv module writes None as an empty field and str() the rest."""
    return rfc3339(value)


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Any],
    to_cells: Callable[[Any], Sequence[Any]],
) -> Iterator[bytes]:
    """The header, then the rows, as UTF-8 chunks; memory stays one chunk deep."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: RFC 4180 quoting and CRLF
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(to_cells(row))
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def csv_response(filename: str, chunks: Iterator[bytes]) -> StreamingResponse:
    """Starlette iterates a sync generator in its thread pool, one chunk at a time. The
    first chunk (the header and first page) is read here, so a failure to query at all is
    still a problem response rather than a cut-off stream."""
    first = next(chunks, b"")
    return StreamingResponse(
        itertools.chain((first,), chunks),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
