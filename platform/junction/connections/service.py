"""Storing connections: new ones, reconnections of the same account, revocations."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.connections.health import CHECK_INTERVAL
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.plugins.interfaces import NewConnection
from junction.secretbox import SecretBox


async def save_connection(
    session: AsyncSession,
    secretbox: SecretBox,
    tenant_id: uuid.UUID,
    provider: str,
    new: NewConnection,
    *,
    actor_type: ActorType,
    actor_id: str | None,
) -> Connection:
    """Store a connected account; the same account connected again gets the new secrets."""
    scope_to_tenant(session, tenant_id)
    connection = await session.scalar(
        select(Connection).where(
            Connection.provider == provider, Connection.account_ref == new.account_ref
        )
    )
    action = "connection.reconnected"
    if connection is None:
        action = "connection.created"
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            provider=provider,
            account_ref=new.account_ref,
            token_version=0,
        )
        session.add(connection)
    else:
        # A refresh that started from the old secrets must not overwrite these.
        connection.token_version += 1
    connection.name = new.name
    connection.secrets_encrypted = secretbox.encrypt_json(dict(new.secrets))
    connection.details = dict(new.details)
    connection.expires_at = new.expires_at
    connection.status = ConnectionStatus.healthy
    connection.refreshed_at = utcnow()
    # Checked within the hour: the schedule starts from now.
    connection.next_check_at = utcnow() + CHECK_INTERVAL
    audit.record(
        session,
        tenant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        target_type="connection",
        target_id=connection.id,
        diff={
            "account": {"from": None, "to": new.account_ref},
            "name": {"from": None, "to": new.name},
        },
    )
    await session.commit()
    return connection


async def revoke_account(session: AsyncSession, provider: str, account_ref: str) -> int:
    """Mark every tenant's connection to this outside account revoked (its owner removed
    the integration); returns how many."""
    with cross_tenant(session, "provider disconnect callback"):
        rows = list(
            (
                await session.scalars(
                    select(Connection).where(
                        Connection.provider == provider, Connection.account_ref == account_ref
                    )
                )
            ).all()
        )
        for connection in rows:
            audit.record(
                session,
                connection.tenant_id,
                actor_type=ActorType.system,
                actor_id=provider,
                action="connection.revoked",
                target_type="connection",
                target_id=connection.id,
                diff={
                    "status": {
                        "from": connection.status.value,
                        "to": ConnectionStatus.revoked.value,
                    }
                },
            )
        await session.execute(
            update(Connection)
            .where(Connection.provider == provider, Connection.account_ref == account_ref)
            .values(status=ConnectionStatus.revoked, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return len(rows)


async def list_connections(session: AsyncSession) -> list[Connection]:
    rows = await session.scalars(select(Connection).order_by(Connection.created_at))
    return list(rows.all())
