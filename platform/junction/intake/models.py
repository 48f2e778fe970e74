"""Inbound endpoints: the unique webhook URLs tenants give their shops."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin

if TYPE_CHECKING:
    from junction.plugins.models import PluginInstallation


class InboundEndpoint(IdMixin, TenantScoped, TimestampMixin, Base):
    __tablename__ = "inbound_endpoints"

    name: Mapped[str] = mapped_column(String(200))
    # The token is a secret carried in the URL: it is looked up by its SHA-256 and kept
    # encrypted only so the tenant can be shown its URL again.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(String(64))
    signing_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The installed plugin that processes this endpoint's events.
    installation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plugin_installations.id", ondelete="SET NULL"), index=True
    )
    installation: Mapped[PluginInstallation | None] = relationship(lazy="raise")
