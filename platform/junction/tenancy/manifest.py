"""Tenants as code: a YAML manifest describes a tenant, its plugins and endpoints.

`junction tenants apply` provisions a manifest idempotently: applying it twice changes
nothing, and an endpoint keeps its URL across applies. Manifests never hold secrets;
endpoint tokens are generated on first apply.
"""

from __future__ import annotations

import json
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
from junction.tenancy.models import Tenant
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


class TenantManifest(BaseModel):
    """A tenant, its plugin installations and inbound endpoints."""

    model_config = ConfigDict(extra="forbid", title="Junction tenant manifest")

    slug: str = Field(pattern=SLUG_PATTERN, description="The tenant's unique short name.")
    name: str = Field(min_length=1, max_length=200)
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


async def apply_manifest(
    session: AsyncSession,
    manifest: TenantManifest,
    registry: PluginRegistry,
    secretbox: SecretBox,
) -> AppliedTenant:
    _check_against_registry(manifest, registry)
    with cross_tenant(session, "tenant manifest apply"):
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == manifest.slug))
    created = tenant is None
    if tenant is None:
        tenant = Tenant(slug=manifest.slug, name=manifest.name)
        session.add(tenant)
        await session.flush()
    tenant.name = manifest.name
    scope_to_tenant(session, tenant.id)

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
            tenant.id,
            "installation",
            row.id,
            before,
            {"enabled": spec.enabled, "config": config},
        )
    await session.flush()

    endpoints = {row.name: row for row in await session.scalars(select(InboundEndpoint))}
    applied = AppliedTenant(tenant=tenant, created=created)
    for endpoint_spec in manifest.endpoints:
        endpoint = endpoints.get(endpoint_spec.name)
        before = None
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
            before = {
                "source_format": endpoint.source_format,
                "installation_id": str(endpoint.installation_id),
            }
        endpoint.source_format = endpoint_spec.source
        endpoint.installation_id = installations[endpoint_spec.plugin].id
        after = {
            "source_format": endpoint.source_format,
            "installation_id": str(endpoint.installation_id),
        }
        _audit(session, tenant.id, "endpoint", endpoint.id, before, after)
        applied.endpoint_tokens[endpoint_spec.name] = token
    await session.commit()
    return applied


def _audit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    target_type: str,
    target_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    diff = changes(before, after)
    if not diff:
        return
    audit.record(
        session,
        tenant_id,
        actor_type=ActorType.system,
        actor_id="manifest",
        action=f"{target_type}.{'created' if before is None else 'updated'}",
        target_type=target_type,
        target_id=target_id,
        diff=diff,
    )


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
