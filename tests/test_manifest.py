"""Tenant manifests: idempotent provisioning, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import AuditEntry
from junction.db.tenancy import cross_tenant
from junction.intake.models import InboundEndpoint
from junction.plugins.registry import PluginRegistry
from junction.tenancy.manifest import (
    ManifestError,
    MemberSpec,
    TenantManifest,
    apply_manifest,
    export_manifest,
    load_manifest,
    manifest_yaml,
)
from junction.tenancy.models import Role, Tenant
from tests.factories import secretbox

ROOT = Path(__file__).resolve().parents[1]


async def _audit_log(session: AsyncSession) -> list[AuditEntry]:
    with cross_tenant(session, "test: read the audit log"):
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.action))
        return list(rows.all())


async def test_applying_twice_changes_nothing_the_second_time(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "demo.yaml")
    first = await apply_manifest(session, manifest, registry, secretbox)
    session.info.clear()
    second = await apply_manifest(session, manifest, registry, secretbox)
    assert first.created
    assert not second.created
    assert first.endpoint_tokens == second.endpoint_tokens
    entries = await _audit_log(session)
    assert [entry.action for entry in entries] == ["endpoint.created"] * 2 + [
        "installation.created"
    ] * 2
    configs = [entry.diff["config"]["to"] for entry in entries[2:]]
    assert {"label": "demo"} in configs
    assert all(entry.actor_id == "manifest" for entry in entries)


async def test_a_config_change_is_audited_with_its_diff(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "demo.yaml")
    await apply_manifest(session, manifest, registry, secretbox)
    session.info.clear()
    changed = manifest.model_copy(deep=True)
    changed.installations[0].config = {"label": "renamed"}
    await apply_manifest(session, changed, registry, secretbox)
    updates = [
        entry for entry in await _audit_log(session) if entry.action == "installation.updated"
    ]
    assert [entry.diff for entry in updates] == [
        {"config": {"from": {"label": "demo"}, "to": {"label": "renamed"}}}
    ]


async def test_unknown_plugins_and_sources_refuse_the_whole_manifest(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = TenantManifest.model_validate(
        {
            "slug": "broken",
            "name": "Broken",
            "installations": [{"plugin": "echo", "config": {"label": 5}}, {"plugin": "ghost"}],
            "endpoints": [{"name": "e", "source": "telepathy", "plugin": "missing"}],
        }
    )
    with pytest.raises(ManifestError) as caught:
        await apply_manifest(session, manifest, registry, secretbox)
    message = str(caught.value)
    assert "invalid config for plugin 'echo': label: Input should be a valid string" in message
    assert "plugin 'ghost' is not loaded" in message
    assert "source format 'telepathy' is not provided by any plugin" in message
    assert "plugin 'missing' is not in installations" in message


async def test_the_partner_shop_example_applies(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "partner-shop.yaml")
    applied = await apply_manifest(session, manifest, registry, secretbox)
    assert applied.created
    assert list(applied.endpoint_tokens) == ["OpenCart orders"]


async def test_a_dry_run_names_the_changes_and_saves_none(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "demo.yaml")
    planned = await apply_manifest(session, manifest, registry, secretbox, dry_run=True)
    assert planned.created
    assert "tenant 'demo' created" in planned.changes
    assert any(line.startswith("endpoint 'Demo shop' created:") for line in planned.changes)
    # New endpoints get no URL from a dry run: nothing was saved to answer it.
    assert planned.endpoint_tokens == {}
    with cross_tenant(session, "test: nothing was saved"):
        assert await session.scalar(select(Tenant).where(Tenant.slug == "demo")) is None
        assert list(await session.scalars(select(AuditEntry))) == []

    session.info.clear()
    await apply_manifest(session, manifest, registry, secretbox)
    session.info.clear()
    again = await apply_manifest(session, manifest, registry, secretbox, dry_run=True)
    assert again.changes == []


async def test_an_exported_manifest_applies_with_no_changes(
    session: AsyncSession, registry: PluginRegistry
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "partner-shop.yaml").model_copy(
        update={"members": [MemberSpec(email="Owner@Example.com", role=Role.owner)]}
    )
    applied = await apply_manifest(session, manifest, registry, secretbox)
    assert "member 'owner@example.com' created: role null -> \"owner\"" in applied.changes
    session.info.clear()
    exported = await export_manifest(session, manifest.slug)
    assert exported.members == [MemberSpec(email="owner@example.com", role=Role.owner)]
    text = manifest_yaml(exported)
    reread = TenantManifest.model_validate(yaml.safe_load(text))
    session.info.clear()
    again = await apply_manifest(session, reread, registry, secretbox, dry_run=True)
    assert again.changes == []
    session.info.clear()
    with pytest.raises(ManifestError, match="no tenant has the slug 'nobody'"):
        await export_manifest(session, "nobody")


async def test_signing_secrets_come_from_the_environment_and_never_show(
    session: AsyncSession, registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = load_manifest(ROOT / "tenants" / "demo.yaml")
    signed = manifest.model_copy(
        update={
            "endpoints": [
                spec.model_copy(update={"signing_secret_env": "DEMO_SHOP_SECRET"})
                if spec.name == "Demo shop"
                else spec
                for spec in manifest.endpoints
            ]
        }
    )
    with pytest.raises(ManifestError, match="endpoint 'Demo shop': DEMO_SHOP_SECRET is not set"):
        await apply_manifest(session, signed, registry, secretbox)
    session.info.clear()
    monkeypatch.setenv("DEMO_SHOP_SECRET", "whsec-from-the-environment")
    applied = await apply_manifest(session, signed, registry, secretbox)
    assert "whsec-from-the-environment" not in "\n".join(applied.changes)
    assert any("(set from DEMO_SHOP_SECRET)" in line for line in applied.changes)
    with cross_tenant(session, "test: the stored secret"):
        endpoint = await session.scalar(
            select(InboundEndpoint).where(InboundEndpoint.name == "Demo shop")
        )
        entries = list(await session.scalars(select(AuditEntry)))
    assert endpoint is not None
    assert endpoint.signing_secret_encrypted is not None
    assert secretbox.decrypt(endpoint.signing_secret_encrypted) == "whsec-from-the-environment"
    assert all("whsec" not in str(entry.diff) for entry in entries)
    session.info.clear()
    again = await apply_manifest(session, signed, registry, secretbox, dry_run=True)
    assert again.changes == []
