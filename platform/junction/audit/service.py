"""Recording changes in the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import ActorType, AuditEntry


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for every field that differs."""
    before = before or {}
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    actor_type: ActorType,
    actor_id: str | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    diff: dict[str, Any],
) -> AuditEntry:
    """Add an entry to the session; it is saved with the change it describes."""
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        diff=diff,
    )
    session.add(entry)
    return entry
