"""Browser sessions and the one-time links sent by email."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from junction.db.base import Base, IdMixin, utcnow
from junction.db.enums import enum_column
from junction.tenancy.models import Tenant, User


class UserSession(IdMixin, Base):
    """A signed-in browser. The cookie carries a token; only its hash is kept here."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    user: Mapped[User] = relationship(lazy="raise")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Sent back in a header with every change the browser asks for (CSRF).
    csrf_token: Mapped[str] = mapped_column(String(64))
    # The workspace this browser is working in; the user may belong to several.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL")
    )
    tenant: Mapped[Tenant | None] = relationship(lazy="raise")
    # Set while a staff member looks at a tenant's workspace, read-only.
    impersonating: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class LinkPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"  # noqa: S105 - a purpose, not a password
    change_email = "change_email"


class EmailLink(IdMixin, Base):
    """A link sent by email that does one thing once, before it expires."""

    __tablename__ = "email_links"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # For a change of email: the address the link was sent to, which it confirms.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
