"""`GET /admin/audit/verify`: re-hash the event log and name its first broken link."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from infrastructure.audit_log import verify_log
from infrastructure.event_log import open_event_log
from interfaces.http.deps import AdminDep, ContainerDep
from interfaces.http.schemas_common import problem_responses

router = APIRouter(prefix="/admin", tags=["admin"], responses=problem_responses(401, 403))


class BrokenLinkPublic(BaseModel):
    reason: str
    notification_id: int
    stream_id: UUID | None
    version: int | None
    checkpoint_id: int | None


class AuditVerifyPublic(BaseModel):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    log_position: int
    broken: BrokenLinkPublic | None


@router.get("/audit/verify")
def verify_audit_log(_: AdminDep, container: ContainerDep) -> AuditVerifyPublic:
    """Re-hashes every stored event against its stream's hash chain and every sealed
    checkpoint against the log, and answers `ok: false` with the first broken link: the
    `reason` (`hash_mismatch`: an edited event; `version_gap`: a removed event;
    `missing_hash`; `checkpoint_mismatch`: a removed or reordered stretch of the log), the
    stream id, version and notification id. Reads the whole log: minutes on a large one."""
    with open_event_log(container.settings) as log:
        report = verify_log(log)
    broken = report.broken
    return AuditVerifyPublic(
        ok=report.ok,
        events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked,
        log_position=report.log_position,
        broken=BrokenLinkPublic(**vars(broken)) if broken else None,
    )
