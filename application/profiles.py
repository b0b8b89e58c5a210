"""Editing the caller's profile: name, phone, bio, spoken languages and avatar."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.ports import MediaCatalog
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.errors import ConflictError, RuleViolation
from domain.user import UNCHANGED, User


class Profiles:
    def __init__(self, store: EventStore, media: MediaCatalog | None = None) -> None:
        self._store = store
        self._media = media  # None until a media store is wired: avatars are not checked

    def edit(
        self,
        user_id: UUID,
        *,
        name: str | None = None,
        phone: str | None = None,
        bio: str | None = None,
        languages: list[str] | None = None,
        avatar_media_id: UUID | None = UNCHANGED,
        at: datetime,
        expected_version: int | None = None,
    ) -> int:
        """Records `ProfileEdited` (or nothing when nothing changes). None leaves a field
        as it is; a blank phone clears it; `avatar_media_id=None` removes the avatar, and a
        new one must be media the user uploaded (422 `media_not_found`). ConflictError
        ("version_mismatch") when `expected_version` (If-Match) is not the current one."""
        if avatar_media_id is not UNCHANGED and avatar_media_id is not None:
            self.check_own_media(user_id, [avatar_media_id])
        changes: dict[str, Any] = {"name": name, "phone": phone, "bio": bio}
        changes["languages"] = languages
        changes["avatar_media_id"] = avatar_media_id

        def attempt() -> int:
            user: User = self._store.load(user_id, "user")
            if expected_version is not None and user.version != expected_version:
                raise ConflictError("version_mismatch", f"the user is at version {user.version}")
            user.update_profile(at=at, **changes)
            return self._store.record(user)

        return attempt() if expected_version is not None else retry_on_conflict(attempt)

    def check_own_media(self, user_id: UUID, media_ids: list[UUID]) -> None:
        if self._media is None:
            return
        missing = self._media.missing(user_id, media_ids)
        if missing:
            raise RuleViolation(
                "media_not_found", f"no media {missing[0]} uploaded by you; upload it first"
            )
