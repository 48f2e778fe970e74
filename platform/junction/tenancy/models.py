"""Tenants, the people in them, and the keys programs use to act for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin, utcnow
from junction.db.enums import enum_column


class TenantStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    deleted = "deleted"


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    viewer = "viewer"


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[TenantStatus] = mapped_column(
        enum_column(TenantStatus), default=TenantStatus.active
    )
    deleted_at: Mapped[datetime | None]


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None]
    is_staff: Mapped[bool] = mapped_column(default=False)


class Membership(IdMixin, TenantScoped, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    user: Mapped[User] = relationship(lazy="raise")
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(IdMixin, TenantScoped, Base):
    """A tenant's key for programs. Only a hash is kept; the key is shown once."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.viewer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
