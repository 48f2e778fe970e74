"""Who is in a workspace and with which role; the rules that keep it owned.

Owners may do anything; admins manage admins and viewers but neither make nor touch
owners; anyone may leave, except the last owner, who cannot be demoted either.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.service import AccountError, normalize_email, user_by_email
from junction.accounts.sessions import hash_token
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.members.models import Invitation
from junction.tenancy.models import Membership, Role, Tenant, User

INVITATION_LIFETIME = timedelta(days=7)


def _may_manage(actor: Role, role: Role) -> bool:
    """Whether `actor` may give, change or take away the role `role`."""
    if actor is Role.owner:
        return True
    return actor is Role.admin and role is not Role.owner


async def members(session: AsyncSession) -> list[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id).order_by(User.email)
    )
    return [(membership, user) for membership, user in rows.all()]


async def owner_emails(session: AsyncSession) -> list[str]:
    """The addresses of the workspace in scope's owners: who is told when nobody else is."""
    found = await session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.owner)
        .order_by(User.email)
    )
    return list(found)


async def _membership(session: AsyncSession, user_id: uuid.UUID) -> Membership:
    membership = await session.scalar(select(Membership).where(Membership.user_id == user_id))
    if membership is None:
        raise AccountError(404, "not_found", "no such member in this workspace")
    return membership


async def _owners(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Membership).where(Membership.role == Role.owner)
        )
        or 0
    )


async def invite(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: Role,
    actor_user: uuid.UUID | None,
    email: str,
    role: Role,
) -> str:
    """A new invitation; the token for its link (shown in the email only)."""
    if not _may_manage(actor, role):
        raise AccountError(403, "forbidden", f"an {actor.value} cannot invite an {role.value}")
    email = normalize_email(email)
    with cross_tenant(session, "is the invited address already a member"):
        existing = await user_by_email(session, email)
    if existing is not None:
        already = await session.scalar(
            select(Membership.id).where(Membership.user_id == existing.id)
        )
        if already is not None:
            raise AccountError(409, "already_member", f"{email} is already a member")
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            tenant_id=tenant_id,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=actor_user,
            expires_at=utcnow() + INVITATION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def accept(session: AsyncSession, user: User, token: str) -> tuple[Tenant, Role]:
    """Join the workspace an invitation names; it must have been sent to the user's email."""
    with cross_tenant(session, "an invitation is found by its token"):
        invitation = await session.scalar(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise AccountError(
            400, "invalid_link", "this invitation is not valid: used, withdrawn or expired"
        )
    if invitation.email != user.email:
        raise AccountError(
            403, "forbidden", "this invitation was sent to another email; log in with that one"
        )
    scope_to_tenant(session, invitation.tenant_id)
    tenant = await session.get_one(Tenant, invitation.tenant_id)
    existing = await session.scalar(select(Membership).where(Membership.user_id == user.id))
    if existing is None:
        session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=invitation.role))
    invitation.accepted_at = utcnow()
    await session.flush()
    return tenant, existing.role if existing else invitation.role


async def change_role(
    session: AsyncSession, actor: Role, user_id: uuid.UUID, role: Role
) -> tuple[Role, Role]:
    """Set a member's role; (before, after)."""
    membership = await _membership(session, user_id)
    before = membership.role
    if not (_may_manage(actor, before) and _may_manage(actor, role)):
        raise AccountError(
            403, "forbidden", f"an {actor.value} cannot change an {before.value} to {role.value}"
        )
    if before is Role.owner and role is not Role.owner and await _owners(session) == 1:
        raise AccountError(409, "last_owner", "the last owner cannot be demoted; add another first")
    membership.role = role
    await session.flush()
    return before, role


async def remove(
    session: AsyncSession, actor: Role, actor_user: uuid.UUID | None, user_id: uuid.UUID
) -> Role:
    """Take a member out (or let one leave); the role they had."""
    membership = await _membership(session, user_id)
    leaving = actor_user == user_id
    if not leaving and not _may_manage(actor, membership.role):
        raise AccountError(
            403, "forbidden", f"an {actor.value} cannot remove an {membership.role.value}"
        )
    if membership.role is Role.owner and await _owners(session) == 1:
        raise AccountError(
            409, "last_owner", "the last owner cannot leave; make someone else an owner first"
        )
    role = membership.role
    await session.delete(membership)
    await session.flush()
    return role
