"""A connection's credentials, kept fresh with exactly one refresh at a time.

Providers such as amoCRM rotate refresh tokens: after a refresh the old one is dead, so
two processes refreshing together break the connection. A refresh therefore runs under
a Redis lock per connection, re-reads the stored credentials inside it (someone may have
just refreshed), and stores its result with a compare-and-swap on `token_version`
before anyone uses the new token. A refused refresh marks the connection
`needs_reauth`; work that needs it waits for a person (`NeedsReauth`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.models import NEEDS_A_PERSON, Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.plugins.interfaces import ConnectionProvider, CredentialsRejected
from junction.secretbox import SecretBox

LOCK_SECONDS = 60.0


class NeedsReauth(Exception):
    """The connection's credentials were refused for good; a person must reconnect.

    Work that raises it is paused until the connection is healthy again.
    """

    def __init__(
        self,
        message: str,
        connection_id: uuid.UUID | None = None,
        status: ConnectionStatus = ConnectionStatus.needs_reauth,
    ) -> None:
        super().__init__(message)
        self.connection_id = connection_id
        # What the connection was marked: `expired` when its expiry has passed.
        self.status = status


class ConnectionGone(Exception):
    """The connection was deleted while in use."""


@dataclass(frozen=True)
class Credentials:
    secrets: dict[str, Any]
    details: dict[str, Any]
    expires_at: datetime | None
    version: int
    status: ConnectionStatus


class ConnectionCredentials:
    """The live credentials of one connection, for one process."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        secretbox: SecretBox,
        provider: ConnectionProvider,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        *,
        refresh_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._redis = redis
        self._secretbox = secretbox
        self._provider = provider
        self._tenant_id = tenant_id
        self._connection_id = connection_id
        self._margin = refresh_margin

    @property
    def connection_id(self) -> uuid.UUID:
        return self._connection_id

    async def load(self) -> Credentials:
        async with self._sessionmaker() as session:
            scope_to_tenant(session, self._tenant_id)
            row = await session.scalar(
                select(Connection).where(Connection.id == self._connection_id)
            )
        if row is None:
            raise ConnectionGone("the connection no longer exists")
        return Credentials(
            secrets=self._secretbox.decrypt_json(row.secrets_encrypted),
            details=dict(row.details),
            expires_at=row.expires_at,
            version=row.token_version,
            status=row.status,
        )

    def expiring(self, credentials: Credentials) -> bool:
        return (
            credentials.expires_at is not None and credentials.expires_at - self._margin <= utcnow()
        )

    async def current(self) -> Credentials:
        """Usable credentials, refreshed first when they are about to expire."""
        credentials = await self.load()
        if credentials.status in NEEDS_A_PERSON:
            raise NeedsReauth(
                f"the {self._provider.title} connection needs to be reconnected",
                self._connection_id,
            )
        if self.expiring(credentials) and self._provider.renewable(credentials.secrets):
            credentials = await self.refresh(credentials.version)
        return credentials

    async def refresh(self, seen_version: int) -> Credentials:
        """Renew the credentials unless someone already moved past `seen_version`."""
        lock = self._redis.lock(
            f"junction:connection:{self._connection_id}:refresh",
            timeout=LOCK_SECONDS,
            blocking_timeout=LOCK_SECONDS,
        )
        async with lock:
            credentials = await self.load()
            if credentials.version != seen_version:
                return credentials
            if not self._provider.renewable(credentials.secrets):
                lapsed = credentials.expires_at is not None and credentials.expires_at <= utcnow()
                status = ConnectionStatus.expired if lapsed else ConnectionStatus.needs_reauth
                await self._mark(status)
                raise NeedsReauth(
                    f"the {self._provider.title} credentials "
                    + ("have expired" if lapsed else "were refused")
                    + "; paste new ones or reconnect",
                    self._connection_id,
                    status,
                )
            try:
                renewed = await self._provider.refresh(credentials.secrets, credentials.details)
            except CredentialsRejected as exc:
                await self._mark(ConnectionStatus.needs_reauth)
                raise NeedsReauth(str(exc), self._connection_id) from None
            details = {**credentials.details, **(renewed.details or {})}
            values = {
                "secrets_encrypted": self._secretbox.encrypt_json(dict(renewed.secrets)),
                "details": details,
                "expires_at": renewed.expires_at,
                "token_version": seen_version + 1,
                "status": ConnectionStatus.healthy,
                "updated_at": utcnow(),
                "refreshed_at": utcnow(),
            }
            async with self._sessionmaker() as session:
                scope_to_tenant(session, self._tenant_id)
                swapped = await session.execute(
                    update(Connection)
                    .where(
                        Connection.id == self._connection_id,
                        Connection.token_version == seen_version,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                await session.commit()
            if swapped.rowcount != 1:  # type: ignore[attr-defined]
                # The lock expired under a very slow refresh and another process stored
                # first: its tokens are the live ones.
                return await self.load()
            return Credentials(
                secrets=dict(renewed.secrets),
                details=details,
                expires_at=renewed.expires_at,
                version=seen_version + 1,
                status=ConnectionStatus.healthy,
            )

    async def _mark(self, status: ConnectionStatus) -> None:
        async with self._sessionmaker() as session:
            scope_to_tenant(session, self._tenant_id)
            await session.execute(
                update(Connection)
                .where(Connection.id == self._connection_id)
                .values(status=status, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            await session.commit()


class AccessTokens:
    """A token source for API clients: `access_token` and one refresh after a 401."""

    def __init__(self, credentials: ConnectionCredentials, key: str = "access_token") -> None:
        self._credentials = credentials
        self._key = key

    async def access_token(self) -> str:
        return str((await self._credentials.current()).secrets[self._key])

    async def after_unauthorized(self, rejected: str) -> str:
        credentials = await self._credentials.load()
        if credentials.secrets.get(self._key) != rejected:
            return str(credentials.secrets[self._key])
        renewed = await self._credentials.refresh(credentials.version)
        return str(renewed.secrets[self._key])
