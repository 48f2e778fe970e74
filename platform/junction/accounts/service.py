"""Account flows: sign-up, verification, log-in, password reset, change of email.

Answers never tell a stranger whether an address has an account: sign-up and reset
requests answer the same either way, and the email says what happened.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.mail import Mailer
from junction.accounts.models import EmailLink, LinkPurpose
from junction.accounts.passwords import (
    check_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from junction.accounts.sessions import end_sessions, hash_token
from junction.api.errors import ApiError
from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.plugins.models import PluginInstallation
from junction.tenancy.models import Membership, Role, Tenant, TenantStatus, User

LINK_LIFETIMES = {
    LinkPurpose.verify_email: timedelta(days=2),
    LinkPurpose.reset_password: timedelta(hours=1),
    LinkPurpose.change_email: timedelta(hours=24),
}


class AccountError(ApiError):
    """What an account or member flow refuses: answered as it says by the API."""


@dataclass(frozen=True)
class Links:
    """Where the links in emails point: the web app's pages for each purpose."""

    base_url: str

    def url(self, purpose: LinkPurpose, token: str) -> str:
        page = {
            LinkPurpose.verify_email: "verify-email",
            LinkPurpose.reset_password: "reset-password",
            LinkPurpose.change_email: "confirm-email",
        }[purpose]
        return self.page(page, token)

    def page(self, name: str, token: str | None = None) -> str:
        url = f"{self.base_url.rstrip('/')}/app/{name}"
        return url if token is None else f"{url}?token={token}"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def slug_for(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    return slug or "workspace"


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def _free_slug(session: AsyncSession, name: str) -> str:
    base = slug_for(name)
    slug = base
    while await session.scalar(select(func.count()).where(Tenant.slug == slug)):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


async def create_workspace(
    session: AsyncSession, user: User, name: str, plugins: Sequence[str] = ()
) -> Tenant:
    """A new tenant with `user` as its owner, and `plugins` installed unconfigured."""
    tenant = Tenant(slug=await _free_slug(session, name), name=name.strip())
    session.add(tenant)
    await session.flush()
    session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=Role.owner))
    for plugin in plugins:
        installation = PluginInstallation(tenant_id=tenant.id, plugin=plugin, config={})
        session.add(installation)
        await session.flush()
        audit.record(
            session,
            tenant.id,
            actor_type=ActorType.system,
            actor_id=None,
            action="installation.installed",
            target_type="installation",
            target_id=installation.id,
            diff={"plugin": {"from": None, "to": plugin}},
        )
    await session.flush()
    return tenant


async def _issue_link(session: AsyncSession, user: User, purpose: LinkPurpose, email: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        EmailLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            email=email,
            expires_at=utcnow() + LINK_LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def _use_link(session: AsyncSession, token: str, purpose: LinkPurpose) -> EmailLink:
    link = await session.scalar(
        select(EmailLink).where(
            EmailLink.token_hash == hash_token(token), EmailLink.purpose == purpose
        )
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise AccountError(
            400, "invalid_link", "this link is not valid: it was used, has expired, or is wrong"
        )
    link.used_at = utcnow()
    return link


async def sign_up(
    session: AsyncSession,
    mailer: Mailer,
    links: Links,
    email: str,
    password: str,
    workspace: str,
    plugins: Sequence[str] = (),
) -> None:
    """Create the account and its workspace (with `plugins` installed), and send the
    verification link.

    For an address that already has an account nothing is created; its owner is told by
    email instead, so the answer gives nothing away."""
    mailer.require()
    email = normalize_email(email)
    existing = await user_by_email(session, email)
    if existing is not None:
        await session.rollback()
        await mailer.send(
            email,
            "Your Junction account",
            "Someone (perhaps you) tried to sign up to Junction with this address, which "
            "already has an account. To get into it, reset your password:\n"
            f"{links.page('forgot-password')}\n",
        )
        return
    check_strength(password, email)
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    await create_workspace(session, user, workspace, plugins)
    await _send_verification(session, mailer, links, user)


async def verify_email(session: AsyncSession, token: str) -> User:
    link = await _use_link(session, token, LinkPurpose.verify_email)
    user = await session.get_one(User, link.user_id)
    if user.email == link.email and user.email_verified_at is None:
        user.email_verified_at = utcnow()
    await session.commit()
    return user


async def resend_verification(
    session: AsyncSession, mailer: Mailer, links: Links, email: str
) -> None:
    user = await user_by_email(session, email)
    if user is None or user.email_verified_at is not None:
        return
    await _send_verification(session, mailer, links, user)


async def _send_verification(
    session: AsyncSession, mailer: Mailer, links: Links, user: User
) -> None:
    """A new link to confirm the user's email (committed first, then sent)."""
    token = await _issue_link(session, user, LinkPurpose.verify_email, user.email)
    await session.commit()
    await mailer.send(
        user.email,
        "Confirm your email for Junction",
        "Confirm this address to start using Junction:\n"
        f"{links.url(LinkPurpose.verify_email, token)}\n\n"
        "The link works once, for two days.\n",
    )


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await user_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise AccountError(401, "invalid_credentials", "the email or the password is wrong")
    if user.email_verified_at is None:
        raise AccountError(
            403,
            "email_not_verified",
            "confirm your email first: follow the link we sent (or ask for a new one)",
        )
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await session.commit()
    return user


async def request_password_reset(
    session: AsyncSession, mailer: Mailer, links: Links, email: str
) -> None:
    user = await user_by_email(session, email)
    if user is None:
        return
    token = await _issue_link(session, user, LinkPurpose.reset_password, user.email)
    await session.commit()
    await mailer.send(
        user.email,
        "Reset your Junction password",
        "Someone (perhaps you) asked to reset the password of this Junction account. "
        f"To choose a new one:\n{links.url(LinkPurpose.reset_password, token)}\n\n"
        "The link works once, for an hour. If it was not you, ignore this email.\n",
    )


async def reset_password(session: AsyncSession, token: str, password: str) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    link = await _use_link(session, token, LinkPurpose.reset_password)
    user = await session.get_one(User, link.user_id)
    check_strength(password, user.email)
    user.password_hash = hash_password(password)
    # Following the link proves the address.
    if user.email_verified_at is None and user.email == link.email:
        user.email_verified_at = utcnow()
    await end_sessions(session, user.id)
    await session.commit()
    return user


async def request_email_change(
    session: AsyncSession,
    mailer: Mailer,
    links: Links,
    user: User,
    password: str,
    new_email: str,
) -> None:
    if not verify_password(user.password_hash, password):
        raise AccountError(401, "invalid_credentials", "the password is wrong", field="password")
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise AccountError(
            400, "invalid_request", "this is already the account's email", field="new_email"
        )
    token = await _issue_link(session, user, LinkPurpose.change_email, new_email)
    await session.commit()
    await mailer.send(
        new_email,
        "Confirm your new email for Junction",
        f"Confirm this address for your Junction account:\n"
        f"{links.url(LinkPurpose.change_email, token)}\n",
    )
    await mailer.send(
        user.email,
        "Your Junction email is being changed",
        f"Someone signed in to your account asked to move it to {new_email}. "
        "If it was not you, reset your password now.\n",
    )


async def confirm_email_change(session: AsyncSession, token: str) -> User:
    link = await _use_link(session, token, LinkPurpose.change_email)
    if await user_by_email(session, link.email) is not None:
        raise AccountError(409, "email_taken", "another account has this email now")
    user = await session.get_one(User, link.user_id)
    user.email = link.email
    user.email_verified_at = utcnow()
    # Earlier links were sent to the old address: they no longer apply.
    await session.execute(
        update(EmailLink)
        .where(EmailLink.user_id == user.id, EmailLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    await session.commit()
    return user


async def memberships(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Tenant, Role]]:
    """The workspaces a user belongs to, with the user's role in each."""
    with cross_tenant(session, "the workspaces of the signed-in user"):
        rows = await session.execute(
            select(Tenant, Membership.role)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user_id, Tenant.status != TenantStatus.deleted)
            .order_by(Tenant.name)
        )
        return [(tenant, role) for tenant, role in rows.all()]
