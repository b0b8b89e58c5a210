"""The stock JSON transcoder, reading stored events through orjson where that is exact.

Its fast path is `domain.stored_json.StateReader` (light events, in projections, share it):
orjson's parse with the typed top-level fields revived, exactly the stock result; where it
cannot tell, the stock decoder reads, and keeps its errors too. Writing is untouched, so
stored bytes, and the hash chain over them, are what they were.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.stored_json import UNREAD, StateReader


class EventTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        # Its fast path, with what it remembers (revived values, each topic's typed fields):
        # light events (projections/light.py) read through it too.
        self.reader = StateReader(self.names)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self.reader.forget(transcoding.name)

    def decode(self, data: bytes) -> Any:
        return self.decode_as(data, None)

    def decode_as(self, data: bytes, topic: str | None) -> Any:
        """`decode(data)` for the state of an event of `topic` (see `StateReader.read`)."""
        obj = self.reader.read(data, topic)
        return super().decode(data) if obj is UNREAD else obj
