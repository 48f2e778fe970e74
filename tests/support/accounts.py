"""Signed-in browsers for tests: a verified user with a role in a workspace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.accounts.passwords import hash_password
from junction.app import create_app
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.plugins.registry import build_registry
from junction.settings import Settings
from junction.tenancy.models import Role, Tenant, User
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory, UserFactory

PASSWORD = "correct horse battery"


@dataclass
class SignedIn:
    client: httpx.AsyncClient
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    async def __aenter__(self) -> SignedIn:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()


async def sign_in(
    app: FastAPI, session: AsyncSession, tenant: Tenant, role: Role = Role.owner
) -> SignedIn:
    """A new user with `role` in `tenant`, logged in through the API (close the client)."""
    user = UserFactory(
        email=f"member-{uuid.uuid4().hex[:10]}@example.com",
        password_hash=hash_password(PASSWORD),
        email_verified_at=utcnow(),
    )
    MembershipFactory(tenant=tenant, user=user, role=role)
    await session.commit()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://junction.test"
    )
    answer = await client.post(
        "/api/auth/login",
        json={"email": user.email, "password": PASSWORD, "workspace": tenant.slug},
    )
    assert answer.status_code == 200, answer.text
    return SignedIn(client, answer.json()["csrf_token"])


async def sign_in_staff(app: FastAPI, session: AsyncSession) -> SignedIn:
    """A member of Junction's own workspace, made staff, logged in (close the client)."""
    home = TenantFactory(slug=f"staff-{uuid.uuid4().hex[:8]}", name="Junction staff")
    signed = await sign_in(app, session, home, Role.owner)
    me = (await signed.client.get("/api/auth/me")).json()
    with cross_tenant(session, "test: make a staff member"):
        await session.execute(
            update(User).where(User.email == me["user"]["email"]).values(is_staff=True)
        )
    await session.commit()
    return signed


@asynccontextmanager
async def api_with_key(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    tenant: Tenant,
    role: Role,
) -> AsyncIterator[httpx.AsyncClient]:
    """Junction's API (a new app, built now) as a program holding a workspace key with
    `role`."""
    key = f"jk_test_{uuid.uuid4().hex}"
    ApiKeyFactory(tenant=tenant, key=key, role=role)
    await session.commit()
    app = create_app(settings, registry=build_registry(), sessionmaker=sessionmaker)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://junction.test",
            headers={"Authorization": f"Bearer {key}"},
        ) as client,
    ):
        yield client
