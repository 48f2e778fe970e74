"""A tenant's credentials for an outside system, kept encrypted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin
from junction.db.enums import enum_column


class ConnectionStatus(StrEnum):
    healthy = "healthy"
    expiring = "expiring"
    expired = "expired"
    needs_reauth = "needs_reauth"
    revoked = "revoked"
    error = "error"


class Connection(IdMixin, TenantScoped, TimestampMixin, Base):
    __tablename__ = "connections"

    __table_args__ = (UniqueConstraint("tenant_id", "provider", "account_ref"),)

    provider: Mapped[str] = mapped_column(String(64))
    # The outside account this connection reaches (amoCRM account id …): connecting the
    # same account again replaces the credentials instead of adding a connection.
    account_ref: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_column(ConnectionStatus), default=ConnectionStatus.healthy
    )
    # Encrypted with junction.secretbox; never leaves the process in clear.
    secrets_encrypted: Mapped[str] = mapped_column(Text)
    # Non-secret facts the provider keeps (account id, domain, scopes).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime | None]
    # Bumped by every change of the secrets; a refresh stores its result only if the
    # version is still the one it started from.
    token_version: Mapped[int] = mapped_column(default=0)
