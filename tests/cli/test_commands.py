"""The `junction` command, run as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from junction.tenancy.manifest import manifest_json_schema
from tests.support.backends import Databases
from tests.support.processes import ROOT, run_junction


def test_plugins_list_shows_echo_loaded_through_its_entry_point() -> None:
    result = run_junction("plugins", "list")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("echo ")]
    assert "(junction-echo 0.1.0)" in line
    assert "source:echo" in line
    assert "events" in line


def test_the_standard_library_platform_module_is_not_shadowed() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "Linux"


def test_the_committed_manifest_schema_is_current() -> None:
    assert (ROOT / "tenants" / "manifest.schema.json").read_text() == manifest_json_schema()


@pytest.mark.slice
async def test_migrate_then_apply_the_demo_manifest_twice(
    databases: Databases, tmp_path: Path
) -> None:
    env = {"JUNCTION_DATABASE_URL": await databases.create(), "JUNCTION_VAR_DIR": str(tmp_path)}
    assert run_junction("migrate", env=env).returncode == 0
    first = run_junction("tenants", "apply", "tenants/demo.yaml", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("demo: created")
    planned = run_junction("tenants", "apply", "--dry-run", "tenants/demo.yaml", env=env)
    assert planned.stdout.startswith("demo: would be updated\n  no changes\n")
    second = run_junction("tenants", "apply", "tenants/demo.yaml", env=env)
    assert second.stdout.startswith("demo: updated\n  no changes\n")
    exported = tmp_path / "exported.yaml"
    assert run_junction("tenants", "export", "demo", "-o", str(exported), env=env).returncode == 0
    assert "Demo OpenCart" in exported.read_text()
    third = run_junction("tenants", "apply", "--dry-run", str(exported), env=env)
    assert "no changes" in third.stdout, third.stdout + third.stderr
    url = first.stdout.split("endpoint 'Demo shop': ")[1].strip()
    assert second.stdout.split("endpoint 'Demo shop': ")[1].strip() == url
    key = run_junction("api-keys", "create", "--tenant", "demo", "--name", "ci", env=env)
    assert key.returncode == 0
    assert key.stdout.startswith("jk_")


def test_a_bad_manifest_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        "slug: Bad Slug\nname: x\nendpoints:\n  - name: e\n    source: nope\n    plugin: echo\n"
    )
    result = run_junction(
        "tenants", "apply", str(manifest), env={"JUNCTION_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    assert "slug: String should match pattern" in result.stderr


async def test_events_replay_replays_the_filtered_events(
    databases: Databases, redis_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from junction.db.session import create_engine, create_sessionmaker
    from junction.db.tenancy import scope_to_tenant
    from junction.events.models import Event, EventStatus
    from junction.tenancy.models import Tenant

    url = await databases.create_migrated()
    env = {
        "JUNCTION_DATABASE_URL": url,
        "JUNCTION_VAR_DIR": str(tmp_path),
        "JUNCTION_REDIS_URL": redis_url,
    }
    assert run_junction("tenants", "apply", "tenants/demo.yaml", env=env).returncode == 0
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == "demo"))
            assert tenant is not None
            scope_to_tenant(session, tenant.id)
            for n in range(3):
                session.add(
                    Event(
                        tenant_id=tenant.id,
                        idempotency_key=f"f{n}",
                        payload={},
                        status=EventStatus.failed,
                    )
                )
            session.add(
                Event(tenant_id=tenant.id, idempotency_key="d", payload={}, status=EventStatus.done)
            )
            await session.commit()
        result = run_junction("events", "replay", "--tenant", "demo", "--status", "failed", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "replayed 3 events"
        assert "replaying" in result.stderr
        async with sessionmaker() as session:
            scope_to_tenant(session, tenant.id)
            statuses = sorted(e.status.value for e in (await session.scalars(select(Event))).all())
        assert statuses == ["done", "received", "received", "received"]
        bad = run_junction(
            "events", "replay", "--tenant", "demo", "--status", "processing", env=env
        )
        assert bad.returncode == 2
        assert "--status must be one of: done, failed, paused" in bad.stderr
    finally:
        await engine.dispose()
