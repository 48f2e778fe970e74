"""Inbound endpoints: the unique webhook URLs tenants give their shops."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin, utcnow

if TYPE_CHECKING:
    from junction.plugins.models import PluginInstallation


class InboundEndpoint(IdMixin, TenantScoped, TimestampMixin, Base):
    __tablename__ = "inbound_endpoints"

    name: Mapped[str] = mapped_column(String(200))
    # The token is a secret carried in the URL: it is looked up by its SHA-256 and kept
    # encrypted only so the tenant can be shown its URL again.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    # After a rotation the old token keeps working until this time, so the shop can be
    # switched to the new URL without losing a delivery.
    previous_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_token_valid_until: Mapped[datetime | None]
    source_format: Mapped[str] = mapped_column(String(64))
    signing_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The installed plugin that processes this endpoint's events.
    installation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plugin_installations.id", ondelete="SET NULL"), index=True
    )
    installation: Mapped[PluginInstallation | None] = relationship(lazy="raise")


class IntakeRefusal(IdMixin, TenantScoped, Base):
    """A delivery an endpoint refused (a bad signature …): the endpoint's intake log."""

    __tablename__ = "intake_refusals"
    __table_args__ = (
        Index("ix_intake_refusals_endpoint_id_received_at", "endpoint_id", "received_at"),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inbound_endpoints.id", ondelete="CASCADE")
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int]
