"""Tenants as code: a YAML manifest describes a tenant, its plugins and endpoints.

`junction tenants apply` provisions a manifest idempotently: applying it twice changes
nothing, and an endpoint keeps its URL across applies; `--dry-run` names every change
and saves none. `junction tenants export` writes a tenant's manifest. Manifests never
hold secrets; endpoint tokens are generated on first apply. Members listed are added
or given their role; members not listed are left as they are (people leave through the
workspace, not through a file).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.audit.service import changes
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.intake.models import InboundEndpoint
from junction.intake.tokens import hash_endpoint_token, new_endpoint_token
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError, PluginRegistry
from junction.secretbox import SecretBox
from junction.tenancy.models import Membership, Role, Tenant, User
from junction.validation import describe

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


class ManifestError(ValueError):
    pass


class InstallationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(description="The plugin's name, as `junction plugins list` shows it.")
    enabled: bool = True
    config: dict[str, Any] = Field(
        default_factory=dict, description="Validated by the plugin's own config model."
    )


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Unique within the tenant.")
    source: str = Field(description="The source format that reads the shop's deliveries.")
    plugin: str = Field(description="The installed plugin that processes its events.")
    signing_secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="The environment variable holding the secret the shop signs deliveries "
        "with (never the secret itself). Absent: the endpoint's secret is left as it is.",
    )


class MemberSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
        description="A new address gets an account without a password: its owner sets "
        "one with a password reset.",
    )
    role: Role = Role.viewer


class TenantManifest(BaseModel):
    """A tenant, its members, plugin installations and inbound endpoints."""

    model_config = ConfigDict(extra="forbid", title="Junction tenant manifest")

    slug: str = Field(pattern=SLUG_PATTERN, description="The tenant's unique short name.")
    name: str = Field(min_length=1, max_length=200)
    members: list[MemberSpec] = Field(default_factory=list)
    installations: list[InstallationSpec] = Field(default_factory=list)
    endpoints: list[EndpointSpec] = Field(default_factory=list)


def manifest_json_schema() -> str:
    return json.dumps(TenantManifest.model_json_schema(), indent=2, sort_keys=True) + "\n"


def load_manifest(path: Path) -> TenantManifest:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: cannot be read: {exc}") from None
    try:
        return TenantManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"{path}: {describe(exc)}") from None


@dataclass
class AppliedTenant:
    tenant: Tenant
    created: bool
    # Endpoint name -> token, for every endpoint of the manifest.
    endpoint_tokens: dict[str, str] = field(default_factory=dict)
    # What the apply changed (or, in a dry run, would change), one line each.
    changes: list[str] = field(default_factory=list)


async def apply_manifest(
    session: AsyncSession,
    manifest: TenantManifest,
    registry: PluginRegistry,
    secretbox: SecretBox,
    *,
    dry_run: bool = False,
) -> AppliedTenant:
    """Create or update the tenant; with `dry_run`, work out the changes and save none."""
    _check_against_registry(manifest, registry)
    signing_secrets = _signing_secrets(manifest)
    with cross_tenant(session, "tenant manifest apply"):
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == manifest.slug))
    created = tenant is None
    if tenant is None:
        tenant = Tenant(slug=manifest.slug, name=manifest.name)
        session.add(tenant)
        await session.flush()
    applied = AppliedTenant(tenant=tenant, created=created)
    if created:
        applied.changes.append(f"tenant {manifest.slug!r} created")
    elif tenant.name != manifest.name:
        applied.changes.append(
            f"tenant {manifest.slug!r} updated: name {tenant.name!r} -> {manifest.name!r}"
        )
    tenant.name = manifest.name
    scope_to_tenant(session, tenant.id)
    await _apply_members(session, tenant, manifest.members, applied)

    installations: dict[str, PluginInstallation] = {
        row.plugin: row for row in await session.scalars(select(PluginInstallation))
    }
    for spec in manifest.installations:
        config = registry.validate_config(spec.plugin, spec.config).model_dump(mode="json")
        row = installations.get(spec.plugin)
        before = None if row is None else {"enabled": row.enabled, "config": row.config}
        if row is None:
            row = PluginInstallation(id=uuid.uuid4(), tenant_id=tenant.id, plugin=spec.plugin)
            session.add(row)
            installations[spec.plugin] = row
        row.enabled = spec.enabled
        row.config = config
        _audit(
            session,
            applied,
            f"installation {spec.plugin!r}",
            "installation",
            row.id,
            before,
            {"enabled": spec.enabled, "config": config},
        )
    await session.flush()

    endpoints = {row.name: row for row in await session.scalars(select(InboundEndpoint))}
    plugin_names = {str(row.id): name for name, row in installations.items()}
    for endpoint_spec in manifest.endpoints:
        endpoint = endpoints.get(endpoint_spec.name)
        previous: dict[str, str] | None = None
        if endpoint is None:
            token = new_endpoint_token()
            endpoint = InboundEndpoint(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                name=endpoint_spec.name,
                token_hash=hash_endpoint_token(token),
                token_encrypted=secretbox.encrypt(token),
            )
            session.add(endpoint)
        else:
            token = secretbox.decrypt(endpoint.token_encrypted)
            previous = {
                "source_format": endpoint.source_format,
                "installation_id": str(endpoint.installation_id),
            }
        endpoint.source_format = endpoint_spec.source
        endpoint.installation_id = installations[endpoint_spec.plugin].id
        if endpoint_spec.name in signing_secrets:
            _set_signing_secret(
                session,
                applied,
                endpoint,
                signing_secrets[endpoint_spec.name],
                secretbox,
                endpoint_spec,
            )
        after = {
            "source_format": endpoint.source_format,
            "installation_id": str(endpoint.installation_id),
        }
        # Read as the manifest says it: the plugin's name rather than an installation id.
        shown_previous = (
            None
            if previous is None
            else {
                "source_format": previous["source_format"],
                "plugin": plugin_names.get(previous["installation_id"]),
            }
        )
        _audit(
            session,
            applied,
            f"endpoint {endpoint_spec.name!r}",
            "endpoint",
            endpoint.id,
            previous,
            after,
            shown=(
                shown_previous,
                {"source_format": endpoint.source_format, "plugin": endpoint_spec.plugin},
            ),
        )
        if previous is not None or not dry_run:
            applied.endpoint_tokens[endpoint_spec.name] = token
    if dry_run:
        # Kept as it was read: the rollback would otherwise expire what the caller prints.
        session.expunge(tenant)
        await session.rollback()
    else:
        await session.commit()
    return applied


def _signing_secrets(manifest: TenantManifest) -> dict[str, str]:
    """Each endpoint's signing secret, read from the variable it names; all or nothing."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for spec in manifest.endpoints:
        if spec.signing_secret_env is None:
            continue
        value = os.environ.get(spec.signing_secret_env, "")
        if value:
            found[spec.name] = value
        else:
            missing.append(f"endpoint {spec.name!r}: {spec.signing_secret_env} is not set")
    if missing:
        raise ManifestError(f"manifest for {manifest.slug!r}: " + "; ".join(missing))
    return found


def _set_signing_secret(
    session: AsyncSession,
    applied: AppliedTenant,
    endpoint: InboundEndpoint,
    secret: str,
    secretbox: SecretBox,
    spec: EndpointSpec,
) -> None:
    current = endpoint.signing_secret_encrypted
    if current is not None and secretbox.decrypt(current) == secret:
        return
    endpoint.signing_secret_encrypted = secretbox.encrypt(secret)
    # The change is named, never the secret: "(set)" stands for it in the log.
    _audit(
        session,
        applied,
        f"endpoint {spec.name!r}",
        "endpoint",
        endpoint.id,
        {"signing_secret": "(set)" if current else None},
        {"signing_secret": f"(set from {spec.signing_secret_env})"},
    )


async def _apply_members(
    session: AsyncSession, tenant: Tenant, specs: list[MemberSpec], applied: AppliedTenant
) -> None:
    for spec in specs:
        email = spec.email.strip().lower()
        with cross_tenant(session, "tenant manifest: a member's account"):
            user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email)
            session.add(user)
            await session.flush()
        membership = await session.scalar(select(Membership).where(Membership.user_id == user.id))
        before = None if membership is None else {"role": membership.role.value}
        if membership is None:
            membership = Membership(tenant_id=tenant.id, user_id=user.id, role=spec.role)
            session.add(membership)
        membership.role = spec.role
        _audit(
            session,
            applied,
            f"member {email!r}",
            "member",
            user.id,
            before,
            {"role": spec.role.value},
        )
    await session.flush()


def _audit(
    session: AsyncSession,
    applied: AppliedTenant,
    what: str,
    target_type: str,
    target_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    *,
    shown: tuple[dict[str, Any] | None, dict[str, Any]] | None = None,
) -> None:
    diff = changes(before, after)
    if not diff:
        return
    shown_diff = changes(*shown) if shown is not None else diff
    verb = "created" if before is None else "updated"
    applied.changes.append(
        f"{what} {verb}: "
        + "; ".join(
            f"{key} {json.dumps(change['from'])} -> {json.dumps(change['to'])}"
            for key, change in shown_diff.items()
            if key != "installation_id"
        )
    )
    audit.record(
        session,
        applied.tenant.id,
        actor_type=ActorType.system,
        actor_id="manifest",
        action=f"{target_type}.{verb}",
        target_type=target_type,
        target_id=target_id,
        diff=diff,
    )


async def export_manifest(session: AsyncSession, slug: str) -> TenantManifest:
    """The manifest that describes the tenant as it is now."""
    with cross_tenant(session, "tenant manifest export"):
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise ManifestError(f"no tenant has the slug {slug!r}")
    scope_to_tenant(session, tenant.id)
    installations = list(
        await session.scalars(select(PluginInstallation).order_by(PluginInstallation.plugin))
    )
    plugins = {row.id: row.plugin for row in installations}
    members = await session.execute(
        select(User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .order_by(User.email)
    )
    endpoints = await session.scalars(select(InboundEndpoint).order_by(InboundEndpoint.name))
    return TenantManifest(
        slug=tenant.slug,
        name=tenant.name,
        members=[MemberSpec(email=email, role=role) for email, role in members.all()],
        installations=[
            InstallationSpec(plugin=row.plugin, enabled=row.enabled, config=row.config)
            for row in installations
        ],
        endpoints=[
            EndpointSpec(
                name=row.name,
                source=row.source_format,
                plugin=plugins.get(row.installation_id, "") if row.installation_id else "",
            )
            for row in endpoints
        ],
    )


def manifest_yaml(manifest: TenantManifest) -> str:
    return yaml.safe_dump(manifest.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _check_against_registry(manifest: TenantManifest, registry: PluginRegistry) -> None:
    problems: list[str] = []
    installed = {spec.plugin for spec in manifest.installations}
    for spec in manifest.installations:
        if spec.plugin not in registry.plugins:
            problems.append(f"plugin {spec.plugin!r} is not loaded")
        else:
            try:
                registry.validate_config(spec.plugin, spec.config)
            except PluginError as exc:
                problems.append(str(exc))
    for endpoint in manifest.endpoints:
        if endpoint.source not in registry.sources:
            problems.append(
                f"endpoint {endpoint.name!r}: source format {endpoint.source!r} "
                "is not provided by any plugin"
            )
        if endpoint.plugin not in installed:
            problems.append(
                f"endpoint {endpoint.name!r}: plugin {endpoint.plugin!r} is not in installations"
            )
    if problems:
        raise ManifestError(f"manifest for {manifest.slug!r}: " + "; ".join(problems))
