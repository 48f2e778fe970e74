"""What the connections API returns: never a secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from junction.connections.models import ConnectionStatus


class ConnectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider: str
    name: str
    account_ref: str
    status: ConnectionStatus
    details: dict[str, Any]
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None
    next_check_at: datetime | None
    # Events waiting for this connection to work again (what it blocks while broken).
    paused_events: int = 0


class CheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    checked_at: datetime
    status: ConnectionStatus
    detail: str
    refreshed: bool
    duration_ms: int


class UnhealthyConnectionOut(ConnectionOut):
    tenant_id: uuid.UUID
    tenant_slug: str


class AuthorizationStart(BaseModel):
    # Send the tenant's browser here; it comes back to the callback.
    authorization_url: str


class Disconnected(BaseModel):
    revoked: int
