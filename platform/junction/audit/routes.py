"""`GET /api/audit`: the workspace's audit log, for its owners."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.deps import CallerDep, SessionDep
from junction.api.errors import ApiError
from junction.audit.models import ActorType, AuditEntry
from junction.tenancy.models import ApiKey, Role, User
from junction.validation import UtcDatetime

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    actor_type: ActorType
    actor_id: str | None
    # Who, in words: the person's email, or the API key's name (staff and Junction
    # itself are named by `actor_type`).
    actor: str | None = None
    action: str
    target_type: str
    target_id: str | None
    diff: dict[str, Any]


async def _actor_names(session: AsyncSession, entries: list[AuditEntry]) -> dict[str, str]:
    def ids(kind: ActorType) -> set[uuid.UUID]:
        # A member's and a key's entries carry their id (`Caller.actor_id`).
        return {uuid.UUID(e.actor_id) for e in entries if e.actor_type is kind and e.actor_id}

    names: dict[str, str] = {}
    people = ids(ActorType.user)
    if people:
        for user_id, email in await session.execute(
            select(User.id, User.email).where(User.id.in_(people))
        ):
            names[str(user_id)] = email
    keys = ids(ActorType.api_key)
    if keys:
        for key_id, name in await session.execute(
            select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(keys))
        ):
            names[str(key_id)] = name
    return names


async def audit_page(session: AsyncSession, limit: int, before: datetime | None) -> list[AuditOut]:
    """Newest first; `before` pages on. The session must be scoped to the tenant."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.created_at < before)
    entries = list(await session.scalars(query))
    names = await _actor_names(session, entries)
    return [
        AuditOut.model_validate(entry).model_copy(update={"actor": names.get(entry.actor_id or "")})
        for entry in entries
    ]


@router.get("/api/audit", operation_id="audit-list")
async def list_audit(
    caller: CallerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: UtcDatetime | None = None,
) -> list[AuditOut]:
    """Every change to connections, endpoints, installations, members, replays and staff
    actions in this workspace (owners only)."""
    if caller.role is not Role.owner:
        raise ApiError(403, "forbidden", "the audit log is for owners")
    return await audit_page(session, limit, before)
