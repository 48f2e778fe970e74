"""A tenant's credentials for an outside system, kept encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin, utcnow
from junction.db.enums import enum_column


class ConnectionStatus(StrEnum):
    healthy = "healthy"
    expiring = "expiring"
    expired = "expired"
    needs_reauth = "needs_reauth"
    revoked = "revoked"
    error = "error"


# Statuses only a person can fix (reconnecting, pasting new credentials): nothing is
# sent with such a connection, and work that needs it waits, paused.
NEEDS_A_PERSON = (ConnectionStatus.needs_reauth, ConnectionStatus.revoked, ConnectionStatus.expired)


class AlertState(StrEnum):
    """What the tenant was last told about a connection."""

    ok = "ok"
    expiring = "expiring"
    broken = "broken"


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
    # When the secrets were last obtained or renewed: the keep-alive's clock.
    refreshed_at: Mapped[datetime | None]
    # When the health check is due next; what it found is in `ConnectionCheck`.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # What the tenant was last alerted of, and when to remind them while it lasts: an
    # alert goes out when the status no longer matches it, never twice for one change.
    alert_state: Mapped[AlertState] = mapped_column(enum_column(AlertState), default=AlertState.ok)
    remind_at: Mapped[datetime | None] = mapped_column(index=True)


class ConnectionCheck(IdMixin, TenantScoped, Base):
    """One health check of a connection: kept for 30 days, for the history."""

    __tablename__ = "connection_checks"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[ConnectionStatus] = mapped_column(enum_column(ConnectionStatus))
    # What the check did ("refreshed", "probed") and what it found, in words.
    detail: Mapped[str] = mapped_column(String(500), default="")
    refreshed: Mapped[bool] = mapped_column(default=False)
    duration_ms: Mapped[int] = mapped_column(default=0)
