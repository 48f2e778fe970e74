"""The installations API: a tenant's plugins, a dry run of one, and clearing its caches."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.audit.service import changes
from junction.connections.credentials import NeedsReauth
from junction.connections.models import Connection
from junction.events.services import EventServices
from junction.intake.models import InboundEndpoint
from junction.plugins.config_schema import connection_settings
from junction.plugins.described import Described, plugin_words
from junction.plugins.interfaces import (
    AttemptLog,
    Checkpoint,
    EventContext,
    Integration,
    PermanentError,
)
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError

router = APIRouter(prefix="/api/installations", tags=["installations"])


class InstallationOut(Described):
    id: uuid.UUID
    plugin: str
    enabled: bool
    config: dict[str, Any]


def installation_out(runtime: Any, installation: PluginInstallation) -> InstallationOut:
    """An installation as the API shows it, named as its plugin names itself."""
    return InstallationOut(
        id=installation.id,
        plugin=installation.plugin,
        enabled=installation.enabled,
        config=installation.config,
        **plugin_words(runtime.registry, installation.plugin),
    )


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: Any = Field(description="A sample delivery's body, as its shop sends it (parsed).")
    headers: dict[str, str] = Field(default_factory=dict)
    source_format: str | None = Field(
        default=None,
        description="How to read the payload; empty: the format of the installation's endpoint.",
    )


class PreviewOut(BaseModel):
    requests: list[dict[str, Any]]
    problem: str | None
    log: list[dict[str, Any]]


class ClearedOut(BaseModel):
    cleared: int


async def _installation(session: AsyncSession, installation_id: uuid.UUID) -> PluginInstallation:
    found = await session.scalar(
        select(PluginInstallation).where(PluginInstallation.id == installation_id)
    )
    if found is None:
        raise ApiError(404, "not_found", "no installation has this id")
    return found


def _integration(runtime: Any, installation: PluginInstallation) -> Integration:
    try:
        loaded = runtime.registry.plugin(installation.plugin)
    except PluginError as exc:
        raise ApiError(409, "plugin_unavailable", str(exc)) from None
    if loaded.integration is None:
        raise ApiError(
            409, "no_integration", f"the plugin {installation.plugin!r} does not process events"
        )
    integration: Integration = loaded.integration
    return integration


@router.get("", operation_id="installations-list")
async def list_installations(
    caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> list[InstallationOut]:
    """The tenant's plugins and their configuration."""
    rows = await session.scalars(select(PluginInstallation).order_by(PluginInstallation.plugin))
    return [installation_out(runtime, row) for row in rows]


@router.post("/{installation_id}/preview", operation_id="installations-preview")
async def preview(
    installation_id: uuid.UUID,
    request: PreviewRequest,
    caller: ManagerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PreviewOut:
    """The exact requests a sample delivery would make, with nothing written anywhere."""
    installation = await _installation(session, installation_id)
    integration = _integration(runtime, installation)
    source_format = request.source_format
    if source_format is None:
        formats = set(
            (
                await session.scalars(
                    select(InboundEndpoint.source_format).where(
                        InboundEndpoint.installation_id == installation.id
                    )
                )
            ).all()
        )
        if len(formats) != 1:
            raise ApiError(
                422,
                "source_format_needed",
                "name the source_format: the installation's endpoints do not settle it",
                field="source_format",
            )
        [source_format] = formats
    elif source_format not in runtime.registry.sources:
        raise ApiError(
            422,
            "unknown_source_format",
            f"no source format {source_format!r}",
            field="source_format",
        )
    try:
        config = runtime.registry.validate_config(installation.plugin, installation.config)
    except PluginError as exc:
        raise ApiError(409, "invalid_config", str(exc)) from None
    await session.commit()
    log = AttemptLog()
    context = EventContext(
        tenant_id=caller.tenant_id,
        event_id=uuid.uuid4(),
        attempt=1,
        payload=request.payload,
        headers={name.lower(): value for name, value in request.headers.items()},
        config=config,
        log=log,
        source_format=source_format,
        checkpoint=Checkpoint(),
        services=EventServices(runtime, caller.tenant_id),
    )
    try:
        result = await integration.preview(context)
    except PermanentError as exc:
        return PreviewOut(requests=[], problem=str(exc), log=log.entries)
    except NeedsReauth as exc:
        raise ApiError(409, "connection_needs_reauth", str(exc)) from None
    if result is None:
        raise ApiError(404, "no_preview", f"the plugin {installation.plugin!r} offers no preview")
    return PreviewOut(requests=result.requests, problem=result.problem, log=log.entries)


class ChoiceOut(BaseModel):
    value: str | int
    label: str
    kind: str | None = None
    parent: str | int | None = None
    fits: list[str] | None = None
    group: str | None = None


class FormOut(Described):
    plugin: str
    # The configuration's JSON schema (the plugin's config model).
    config_schema: dict[str, Any]
    config: dict[str, Any]
    # Values fields may take, read from the connected systems now, by the field's dotted
    # path (see `Integration.config_choices`).
    choices: dict[str, list[ChoiceOut]]
    # Why the choices could not be read (no connection yet …); the form still works.
    choices_problem: str | None = None


@router.get("/{installation_id}/form", operation_id="installations-form")
async def form(
    installation_id: uuid.UUID, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> FormOut:
    """What the web app builds the configuration form from: the plugin's config schema,
    the current configuration, and the values the connected account offers."""
    installation = await _installation(session, installation_id)
    integration = _integration(runtime, installation)
    await session.commit()
    info = runtime.registry.plugin(installation.plugin).info
    choices: dict[str, list[ChoiceOut]] = {}
    problem = None
    try:
        found = await integration.config_choices(
            caller.tenant_id, EventServices(runtime, caller.tenant_id)
        )
        choices = {
            name: [
                ChoiceOut(
                    value=choice.value,
                    label=choice.label,
                    kind=choice.kind,
                    parent=choice.parent,
                    fits=list(choice.fits) if choice.fits is not None else None,
                    group=choice.group,
                )
                for choice in values
            ]
            for name, values in found.items()
        }
    except (PermanentError, NeedsReauth) as exc:
        problem = str(exc)
    schema = info.config_model.model_json_schema()
    for path, provider in connection_settings(schema).items():
        connections = await session.scalars(
            select(Connection).where(Connection.provider == provider).order_by(Connection.name)
        )
        choices[path] = [
            ChoiceOut(value=str(connection.id), label=connection.name, kind=connection.status.value)
            for connection in connections
        ]
    return FormOut(
        plugin=installation.plugin,
        **plugin_words(runtime.registry, installation.plugin),
        config_schema=schema,
        config=installation.config,
        choices=choices,
        choices_problem=problem,
    )


class ConfigRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any]


@router.put("/{installation_id}/config", operation_id="installations-save-config")
async def save_config(
    installation_id: uuid.UUID,
    request: ConfigRequest,
    caller: ManagerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> InstallationOut:
    """Replace the configuration: validated by the plugin, then checked against what the
    connected systems hold (a mapped field that no longer exists is refused, named)."""
    installation = await _installation(session, installation_id)
    integration = _integration(runtime, installation)
    try:
        config = runtime.registry.validate_config(installation.plugin, request.config)
    except PluginError as exc:
        raise ApiError(422, "invalid_config", str(exc), field="config") from None
    try:
        problems = await integration.check_config(
            config, caller.tenant_id, EventServices(runtime, caller.tenant_id)
        )
    except PermanentError as exc:
        problems = [str(exc)]
    except NeedsReauth as exc:
        raise ApiError(409, "connection_needs_reauth", str(exc)) from None
    if problems:
        raise ApiError(422, "config_does_not_match", "; ".join(problems), field="config")
    stored = config.model_dump(mode="json")
    diff = changes({"config": installation.config}, {"config": stored})
    installation.config = stored
    if diff:
        caller.record(
            session,
            "installation.updated",
            "installation",
            installation.id,
            diff,
        )
    await session.commit()
    return installation_out(runtime, installation)


@router.post("/{installation_id}/clear-cache", operation_id="installations-clear-cache")
async def clear_cache(
    installation_id: uuid.UUID, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> ClearedOut:
    """Forget what the plugin remembers for this workspace (contacts it looked up …)."""
    installation = await _installation(session, installation_id)
    integration = _integration(runtime, installation)
    await session.commit()
    cleared = await integration.clear_cache(
        caller.tenant_id, EventServices(runtime, caller.tenant_id)
    )
    return ClearedOut(cleared=cleared)
