"""The `junction` command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from junction.settings import Settings, SettingsError, load_settings
from junction.tenancy.models import Role

if TYPE_CHECKING:
    from junction.events.replay import ReplayFilter
    from junction.tenancy.manifest import AppliedTenant

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Junction: shop orders into amoCRM."
)
plugins_app = typer.Typer(
    no_args_is_help=True, help="Plugins loaded from the `junction` entry points."
)
tenants_app = typer.Typer(no_args_is_help=True, help="Tenants as code (YAML manifests).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys for programs.")
events_app = typer.Typer(no_args_is_help=True, help="A tenant's events.")
app.add_typer(plugins_app, name="plugins")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="api-keys")
app.add_typer(events_app, name="events")
staff_app = typer.Typer(no_args_is_help=True, help="Junction's staff (platform operators).")
app.add_typer(staff_app, name="staff")

DEMO_MANIFEST = Path("tenants/demo.yaml")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    from junction.logs import configure_logging

    configure_logging(settings)
    return settings


@app.command()
def migrate(revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Bring the database schema to a revision (by default the newest)."""
    from junction.db import migrate as migrations

    settings = _settings()
    migrations.upgrade(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def api(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes sharing the port.")] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    _settings()  # stop here, with a message, if the settings are invalid
    # Each process builds its own app (and runtime) from the environment.
    uvicorn.run(
        "junction.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it runs (as uvicorn picks it for the API): less time per round trip."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@app.command()
def worker() -> None:
    """Process events from the queue."""
    from arq.worker import run_worker

    from junction.worker.settings import build_worker_settings

    settings = _settings()
    asyncio.set_event_loop(_event_loop())
    run_worker(build_worker_settings(settings))


@app.command()
def openapi() -> None:
    """Print the API's OpenAPI schema (the web app's typed client is generated from it)."""
    import json

    from junction.app import create_app

    schema = create_app(load_settings()).openapi()
    typer.echo(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True))


@app.command()
def sandbox(
    name: Annotated[str, typer.Argument(help="Which sandbox, e.g. amocrm.")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8765,
    demo: Annotated[bool, typer.Option(help="Approve consent screens by themselves.")] = False,
    junction_url: Annotated[
        str, typer.Option(help="Junction's public URL, for redirect URIs.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Serve a plugin's local stand-in for an outside system."""
    import uvicorn

    from junction.plugins.interfaces import SandboxConfig
    from junction.plugins.registry import build_registry

    _settings()
    registry = build_registry()
    chosen = registry.sandboxes.get(name)
    if chosen is None:
        known = ", ".join(sorted(registry.sandboxes)) or "none"
        typer.echo(f"no sandbox named {name!r}; available: {known}", err=True)
        raise typer.Exit(2)
    config = SandboxConfig(base_url=f"http://{host}:{port}", demo=demo, junction_url=junction_url)
    application = chosen.create_app(config)
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


@plugins_app.command("list")
def plugins_list() -> None:
    """Show every loaded plugin with its version and what it contributes."""
    from junction.plugins.registry import build_registry

    registry = build_registry()
    if not registry.plugins:
        typer.echo("no plugins loaded")
        return
    for name, plugin in sorted(registry.plugins.items()):
        provides = [f"source:{source.name}" for source in plugin.sources]
        provides += [f"connection:{provider.name}" for provider in plugin.providers]
        provides += [f"sandbox:{sandbox.name}" for sandbox in plugin.sandboxes]
        if plugin.integration is not None:
            provides.append("events")
        origin = (
            f"{plugin.distribution} {plugin.distribution_version}"
            if plugin.distribution
            else "registered in-process"
        )
        typer.echo(
            f"{name:<16} {plugin.info.version:<10} {plugin.info.title:<24} "
            f"[{', '.join(provides) or '-'}]  ({origin})"
        )


@tenants_app.command("apply")
def tenants_apply(
    manifests: list[Path],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; save nothing.")
    ] = False,
) -> None:
    """Create or update tenants from YAML manifests (idempotent)."""
    settings = _settings()
    for path in manifests:
        applied = asyncio.run(_apply(settings, path, dry_run))
        if dry_run:
            verb = "would be created" if applied.created else "would be updated"
        else:
            verb = "created" if applied.created else "updated"
        typer.echo(f"{applied.tenant.slug}: {verb}")
        for change in applied.changes or ["no changes"]:
            typer.echo(f"  {change}")
        for name, token in applied.endpoint_tokens.items():
            typer.echo(f"  endpoint {name!r}: {_hook_url(settings, token)}")


@tenants_app.command("export")
def tenants_export(
    slug: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")
    ] = None,
) -> None:
    """Write a tenant's manifest (members, installations, endpoints; never secrets)."""
    text = asyncio.run(_export(_settings(), slug))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


@tenants_app.command("schema")
def tenants_schema() -> None:
    """Print the JSON schema of tenant manifests."""
    from junction.tenancy.manifest import manifest_json_schema

    typer.echo(manifest_json_schema(), nl=False)


@keys_app.command("create")
def api_keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant's slug.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    role: Annotated[str, typer.Option(help="owner, admin or viewer.")] = "viewer",
) -> None:
    """Create an API key for a tenant and print it (it is shown only this once)."""
    try:
        chosen = Role(role)
    except ValueError:
        typer.echo(f"--role must be one of: {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    typer.echo(asyncio.run(_issue_key(settings, tenant, name, chosen)))


@events_app.command("replay")
def events_replay(
    tenant: Annotated[str, typer.Option(help="The tenant's slug.")],
    event: Annotated[list[str] | None, typer.Option(help="An event id; repeat for more.")] = None,
    status: Annotated[str | None, typer.Option(help="done, failed or paused.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Received at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Received before (UTC).")] = None,
) -> None:
    """Run finished, failed or paused events again, with a progress bar."""
    from junction.events.models import EventStatus
    from junction.events.replay import REPLAYABLE, ReplayFilter

    chosen_status = None
    if status is not None:
        try:
            chosen_status = EventStatus(status)
        except ValueError:
            chosen_status = None
        if chosen_status not in REPLAYABLE:
            typer.echo("--status must be one of: done, failed, paused", err=True)
            raise typer.Exit(2)
    try:
        event_ids = tuple(uuid.UUID(value) for value in event or [])
    except ValueError:
        typer.echo("--event must be an event id (a UUID)", err=True)
        raise typer.Exit(2) from None
    chosen = ReplayFilter(
        status=chosen_status,
        received_after=since.replace(tzinfo=UTC) if since and since.tzinfo is None else since,
        received_before=until.replace(tzinfo=UTC) if until and until.tzinfo is None else until,
        event_ids=event_ids,
    )
    replayed = asyncio.run(_replay(_settings(), tenant, chosen))
    typer.echo(f"replayed {replayed} event{'s' if replayed != 1 else ''}")


async def _replay(settings: Settings, slug: str, chosen: ReplayFilter) -> int:
    from junction.audit.models import ActorType
    from junction.db.tenancy import scope_to_tenant
    from junction.events.replay import count_replayable, record_replay, replay
    from junction.runtime import open_runtime
    from junction.tenancy.service import UnknownTenantError, tenant_by_slug

    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker() as session:
            try:
                tenant = await tenant_by_slug(session, slug)
            except UnknownTenantError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            scope_to_tenant(session, tenant.id)
            total = await count_replayable(session, chosen)
            with typer.progressbar(length=total, label="replaying", file=sys.stderr) as bar:
                count = await replay(session, runtime.queue, chosen, progress=bar.update)
            await record_replay(
                session, tenant.id, chosen, count, actor_type=ActorType.system, actor_id="cli"
            )
            return count
    finally:
        await runtime.close()


def _hook_url(settings: Settings, token: str) -> str:
    from junction.intake.endpoints import hook_url

    return hook_url(str(settings.public_base_url), token)


async def _apply(settings: Settings, path: Path, dry_run: bool = False) -> AppliedTenant:
    from junction.tenancy.manifest import ManifestError
    from junction.tenancy.provisioning import apply_manifest_file

    try:
        return await apply_manifest_file(settings, path, dry_run=dry_run)
    except ManifestError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


async def _export(settings: Settings, slug: str) -> str:
    from junction.tenancy.manifest import ManifestError
    from junction.tenancy.provisioning import export_manifest_text

    try:
        return await export_manifest_text(settings, slug)
    except ManifestError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


async def _issue_key(settings: Settings, slug: str, name: str, role: Role) -> str:
    from junction.tenancy.provisioning import create_api_key
    from junction.tenancy.service import UnknownTenantError

    try:
        return await create_api_key(settings, slug, name, role)
    except UnknownTenantError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@staff_app.command("grant")
def staff_grant(email: str) -> None:
    """Make an account staff: it can use the staff console once signed in."""
    typer.echo(asyncio.run(_set_staff(_settings(), email, True)))


@staff_app.command("revoke")
def staff_revoke(email: str) -> None:
    """Take staff rights away; the account's sessions end."""
    typer.echo(asyncio.run(_set_staff(_settings(), email, False)))


async def _set_staff(settings: Settings, email: str, staff: bool) -> str:
    from junction.tenancy.provisioning import UnknownAccountError, set_staff

    try:
        return await set_staff(settings, email, staff)
    except UnknownAccountError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    manifest: Annotated[Path, typer.Option(help="The demo tenant's manifest.")] = DEMO_MANIFEST,
) -> None:
    """Run everything on this machine: migrate, embedded Redis, sandboxes, API, worker."""
    from junction.demo import DemoError, run_demo

    os.environ.setdefault("JUNCTION_PUBLIC_BASE_URL", f"http://{host}:{port}")
    try:
        run_demo(_settings(), host, port, manifest)
    except DemoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def main() -> None:
    app()
