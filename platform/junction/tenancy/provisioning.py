"""Provisioning from the command line: manifests and API keys, each in one transaction."""

from __future__ import annotations

from pathlib import Path

from junction.runtime import open_provisioning
from junction.settings import Settings
from junction.tenancy.manifest import (
    AppliedTenant,
    apply_manifest,
    export_manifest,
    load_manifest,
    manifest_yaml,
)
from junction.tenancy.models import Role
from junction.tenancy.service import issue_api_key, tenant_by_slug


async def apply_manifest_file(
    settings: Settings, path: Path, *, dry_run: bool = False
) -> AppliedTenant:
    """Raises `ManifestError` with what is wrong; nothing is saved then."""
    manifest = load_manifest(path)
    async with open_provisioning(settings) as tools, tools.sessionmaker() as session:
        return await apply_manifest(
            session, manifest, tools.registry, tools.secretbox, dry_run=dry_run
        )


async def export_manifest_text(settings: Settings, slug: str) -> str:
    """The tenant's manifest as YAML. Raises `ManifestError` for an unknown slug."""
    async with open_provisioning(settings) as tools, tools.sessionmaker() as session:
        return manifest_yaml(await export_manifest(session, slug))


async def create_api_key(
    settings: Settings, slug: str, name: str, role: Role, *, replace: bool = False
) -> str:
    """The new key, shown only now. Raises `UnknownTenantError`."""
    async with open_provisioning(settings) as tools, tools.sessionmaker() as session:
        tenant = await tenant_by_slug(session, slug)
        return await issue_api_key(session, tenant, name, role, replace=replace)


class UnknownAccountError(LookupError):
    pass


async def set_staff(settings: Settings, email: str, staff: bool) -> str:
    """Grant or revoke staff rights; revoking ends the account's sessions."""
    from sqlalchemy import select

    from junction.accounts.service import normalize_email
    from junction.accounts.sessions import end_sessions
    from junction.tenancy.models import User

    async with open_provisioning(settings) as tools, tools.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise UnknownAccountError(f"no account has the email {email!r}; sign up first")
        user.is_staff = staff
        if not staff:
            await end_sessions(session, user.id)
        await session.commit()
        return f"{user.email}: {'staff' if staff else 'not staff'}"
