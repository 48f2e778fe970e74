"""`/api/members`: the workspace's people, their roles, and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from junction.accounts.service import Links
from junction.api.deps import BrowserDep, CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.members import service
from junction.tenancy.models import Role, Tenant

router = APIRouter(tags=["members"])


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    role: Role
    joined_at: datetime


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: Role = Role.viewer


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class AcceptIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


@router.get("/api/members", operation_id="members-list")
async def list_members(caller: CallerDep, session: SessionDep) -> list[MemberOut]:
    return [
        MemberOut(
            user_id=user.id, email=user.email, role=membership.role, joined_at=membership.created_at
        )
        for membership, user in await service.members(session)
    ]


@router.post("/api/members/invitations", status_code=202, operation_id="members-invite")
async def invite(
    body: InvitationIn, caller: ManagerDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    """Email an invitation to join this workspace with a role (for a week)."""
    runtime.mailer.require()
    token = await service.invite(
        session, caller.tenant_id, caller.role, caller.user_id, body.email, body.role
    )
    tenant = await session.get_one(Tenant, caller.tenant_id)
    caller.record(
        session,
        "member.invited",
        "invitation",
        str(body.email),
        {
            "email": {"from": None, "to": str(body.email)},
            "role": {"from": None, "to": body.role},
        },
    )
    await session.commit()
    link = Links(str(runtime.settings.public_base_url)).page("accept-invitation", token)
    await runtime.mailer.send(
        str(body.email),
        f"You are invited to {tenant.name} on Junction",
        f"You are invited to the Junction workspace {tenant.name!r} as {body.role.value}.\n"
        f"Log in (or sign up with this address) and accept:\n{link}\n\n"
        "The invitation works once, for a week.\n",
    )
    return {"message": f"an invitation is on its way to {body.email}"}


@router.post("/api/invitations/accept", operation_id="invitations-accept")
async def accept(body: AcceptIn, browser: BrowserDep, session: SessionDep) -> dict[str, str]:
    """Join the workspace; the browser switches to it."""
    tenant, role = await service.accept(session, browser.user, body.token)
    audit.record(
        session,
        tenant.id,
        actor_type=ActorType.user,
        actor_id=str(browser.user.id),
        action="member.joined",
        target_type="member",
        target_id=browser.user.id,
        diff={"role": {"from": None, "to": role}},
    )
    browser.session.tenant_id = tenant.id
    await session.commit()
    return {"workspace": tenant.slug, "role": role.value}


@router.put("/api/members/{user_id}", operation_id="members-set-role")
async def set_role(
    user_id: uuid.UUID, body: RoleIn, caller: ManagerDep, session: SessionDep
) -> dict[str, str]:
    before, after = await service.change_role(session, caller.role, user_id, body.role)
    caller.record(
        session,
        "member.role_changed",
        "member",
        user_id,
        {"role": {"from": before, "to": after}},
    )
    await session.commit()
    return {"role": after.value}


@router.delete("/api/members/{user_id}", status_code=204, operation_id="members-remove")
async def remove(user_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> None:
    """Take a member out of the workspace, or leave it (one's own id)."""
    if caller.user_id != user_id and caller.role not in (Role.owner, Role.admin):
        raise ApiError(403, "forbidden", "this needs an owner or an admin")
    role = await service.remove(session, caller.role, caller.user_id, user_id)
    caller.record(
        session,
        "member.removed",
        "member",
        user_id,
        {"role": {"from": role, "to": None}},
    )
    await session.commit()
