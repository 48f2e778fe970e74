"""Which plugins a tenant has, and each one's configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin


class PluginInstallation(IdMixin, TenantScoped, TimestampMixin, Base):
    __tablename__ = "plugin_installations"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin"),)

    plugin: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Validated by the plugin's own config model before it is stored.
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
