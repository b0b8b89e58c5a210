"""The opaque list cursor of the API and the web app alike: base64url JSON without padding.
One module for both, because the web app cannot import the API package (it mounts the
web app)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_value(cursor: str) -> Any:
    """What `encode_cursor` was given, or None when `cursor` is not one it made."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
