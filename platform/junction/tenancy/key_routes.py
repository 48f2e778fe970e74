"""`/api/api-keys`: the workspace's keys for programs, shown once and kept hashed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from junction.api.deps import ManagerDep, SessionDep
from junction.api.errors import ApiError
from junction.db.base import utcnow
from junction.tenancy.api_keys import new_api_key
from junction.tenancy.models import ApiKey, Role

router = APIRouter(prefix="/api/api-keys", tags=["api keys"])


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role = Role.viewer


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown now and never again.")


@router.get("", operation_id="api-keys-list")
async def list_keys(caller: ManagerDep, session: SessionDep) -> list[KeyOut]:
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))
    return [KeyOut.model_validate(row) for row in rows]


@router.post("", status_code=201, operation_id="api-keys-create")
async def create_key(body: KeyIn, caller: ManagerDep, session: SessionDep) -> NewKeyOut:
    """A key for a program; only owners give out owner keys."""
    if body.role is Role.owner and caller.role is not Role.owner:
        raise ApiError(403, "forbidden", "only an owner can create an owner's key")
    row, key = new_api_key(caller.tenant_id, body.name, body.role)
    session.add(row)
    await session.flush()
    caller.record(
        session,
        "api_key.created",
        "api_key",
        row.id,
        {"name": {"from": None, "to": row.name}, "role": {"from": None, "to": row.role}},
    )
    await session.commit()
    return NewKeyOut.model_validate({**KeyOut.model_validate(row).model_dump(), "key": key})


@router.delete("/{key_id}", status_code=204, operation_id="api-keys-revoke")
async def revoke_key(key_id: uuid.UUID, caller: ManagerDep, session: SessionDep) -> None:
    row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if row is None:
        raise ApiError(404, "not_found", "no such API key")
    if row.role is Role.owner and caller.role is not Role.owner:
        raise ApiError(403, "forbidden", "only an owner can revoke an owner's key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        caller.record(
            session,
            "api_key.revoked",
            "api_key",
            row.id,
            {"revoked": {"from": False, "to": True}},
        )
        await session.commit()
