"""Browser sessions: a random token in an HttpOnly cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.models import UserSession
from junction.db.base import utcnow
from junction.tenancy.models import User

SESSION_COOKIE = "junction_session"
CSRF_COOKIE = "junction_csrf"
CSRF_HEADER = "x-csrf-token"
# A session seen again within this long is not written to again (reads stay reads).
SEEN_RESOLUTION = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    session: AsyncSession,
    user: User,
    tenant_id: uuid.UUID | None,
    lifetime: timedelta,
    user_agent: str = "",
    *,
    impersonating: bool = False,
) -> tuple[UserSession, str]:
    """A new session row and the token for its cookie (shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        tenant_id=tenant_id,
        impersonating=impersonating,
        expires_at=utcnow() + lifetime,
        user_agent=user_agent[:255],
    )
    session.add(row)
    await session.flush()
    return row, token


async def find_session(session: AsyncSession, token: str) -> tuple[UserSession, User] | None:
    """The live session a cookie names, with its user; None when ended or unknown."""
    now = utcnow()
    row = (
        await session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.token_hash == hash_token(token),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        )
    ).first()
    if row is None:
        return None
    found, user = row
    if now - found.last_seen_at > SEEN_RESOLUTION:
        await session.execute(
            update(UserSession).where(UserSession.id == found.id).values(last_seen_at=now)
        )
        await session.commit()
    return found, user


async def end_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def end_sessions(session: AsyncSession, user_id: uuid.UUID | None) -> int:
    """End every live session of a user, or of everyone (None). Returns how many."""
    statement = update(UserSession).where(UserSession.revoked_at.is_(None))
    if user_id is not None:
        statement = statement.where(UserSession.user_id == user_id)
    result = await session.execute(statement.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]
