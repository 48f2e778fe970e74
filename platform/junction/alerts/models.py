"""Alerts about connections: where a tenant wants them, and what was sent.

What a tenant was last told about each connection lives on the connection
(`alert_state`, `remind_at`); the alerts themselves are kept here, each with one
delivery per channel, retried on their own schedule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin, utcnow
from junction.db.enums import enum_column


class ChannelKind(StrEnum):
    email = "email"
    telegram = "telegram"
    webhook = "webhook"


class AlertKind(StrEnum):
    # A connection's credentials expire soon and nobody can renew them but a person.
    expiring = "expiring"
    # A connection stopped working: work that needs it is paused.
    broken = "broken"
    # It works again; what waited for it resumes.
    recovered = "recovered"
    # Still broken (or still expiring), once per reminder interval.
    reminder = "reminder"
    # Sent on request, to see that a channel reaches someone.
    test = "test"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class AlertChannel(IdMixin, TenantScoped, TimestampMixin, Base):
    """Somewhere a tenant's alerts go: email addresses, a Telegram chat, a webhook URL."""

    __tablename__ = "alert_channels"

    kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Email: the addresses.
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    # Telegram: the chat id; webhook: the URL.
    target: Mapped[str] = mapped_column(String(2000), default="")
    # Webhook: the signing secret; Telegram: the tenant's own bot token, if it has one.
    # Encrypted with junction.secretbox, never returned after it is first shown.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)


class AlertSettings(TenantScoped, TimestampMixin, Base):
    __tablename__ = "alert_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # How often a connection that stays broken is brought up again.
    reminder_hours: Mapped[int] = mapped_column(default=24)


class Alert(IdMixin, TenantScoped, Base):
    __tablename__ = "alerts"

    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # What webhooks receive: the same facts, for machines.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertDelivery(IdMixin, TenantScoped, Base):
    """One alert on its way to one channel (or, with no channel set, one owner)."""

    __tablename__ = "alert_deliveries"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    # Who it goes to, in words (an owner's address when no channel is set).
    target: Mapped[str] = mapped_column(String(2000))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus), default=DeliveryStatus.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
