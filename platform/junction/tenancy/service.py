"""Provisioning helpers used by the CLI: manifests and API keys, in one transaction each."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.tenancy.api_keys import new_api_key
from junction.tenancy.models import ApiKey, Role, Tenant


class UnknownTenantError(LookupError):
    pass


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant:
    with cross_tenant(session, "tenant lookup by slug"):
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise UnknownTenantError(f"no tenant has the slug {slug!r}")
    return tenant


async def issue_api_key(
    session: AsyncSession, tenant: Tenant, name: str, role: Role, *, replace: bool = False
) -> str:
    """Create a key and return it (the only time it is seen); `replace` revokes same-named keys."""
    scope_to_tenant(session, tenant.id)
    if replace:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    row, key = new_api_key(tenant.id, name, role)
    session.add(row)
    await session.commit()
    return key
