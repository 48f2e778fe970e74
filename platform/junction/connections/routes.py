"""Connecting outside systems: consent flow, pasted credentials, disconnect callbacks.

The routes are the same for every provider; what is specific to one (amoCRM …) is
behind the provider's methods.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.sessions import SESSION_COOKIE, find_session
from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.audit.models import ActorType
from junction.connections import service
from junction.connections.health import check_connection
from junction.connections.models import Connection, ConnectionCheck
from junction.connections.oauth_state import OAuthStates, StateError
from junction.connections.schemas import (
    AuthorizationStart,
    CheckOut,
    ConnectionOut,
    Disconnected,
)
from junction.events.models import Event, EventStatus
from junction.plugins.interfaces import AuthorizationError, ConnectionProvider, NewConnection
from junction.runtime import Runtime

log = logging.getLogger(__name__)

router = APIRouter(tags=["connections"])


def _provider(runtime: Runtime, name: str) -> ConnectionProvider:
    provider = runtime.registry.providers.get(name)
    if provider is None:
        raise ApiError(404, "not_found", f"no connection provider is named {name!r}")
    return provider


def _states(runtime: Runtime) -> OAuthStates:
    return OAuthStates(runtime.queue.redis, runtime.settings.secret_keys())


@router.get("/api/connections", operation_id="connections-list")
async def list_connections(caller: CallerDep, session: SessionDep) -> list[ConnectionOut]:
    """The tenant's connections, their status, and how many events each holds up."""
    paused = dict(
        (
            await session.execute(
                select(Event.paused_connection_id, func.count())
                .where(Event.status == EventStatus.paused, Event.paused_connection_id.is_not(None))
                .group_by(Event.paused_connection_id)
            )
        ).all()
    )
    return [
        ConnectionOut.model_validate(connection).model_copy(
            update={"paused_events": paused.get(connection.id, 0)}
        )
        for connection in await service.list_connections(session)
    ]


class ProviderOut(BaseModel):
    name: str
    title: str
    # Connected through its consent page (POST /api/connections/{name}/authorize).
    consent: bool
    # The ways to paste credentials instead, as JSON schemas (the title names each).
    credential_forms: list[dict[str, Any]]


@router.get("/api/connections/providers", operation_id="connections-providers")
async def providers(caller: CallerDep, runtime: RuntimeDep) -> list[ProviderOut]:
    """What the workspace can connect, and how: the installed plugins' providers."""
    return [
        ProviderOut(
            name=name,
            title=provider.title,
            consent=provider.consent,
            credential_forms=[form.model_json_schema() for form in provider.credential_forms],
        )
        for name, provider in sorted(runtime.registry.providers.items())
    ]


@router.post("/api/connections/{provider}/authorize", operation_id="connections-authorize")
async def authorize(provider: str, caller: ManagerDep, runtime: RuntimeDep) -> AuthorizationStart:
    """Start connecting: the URL of the provider's consent page, with a single-use state."""
    chosen = _provider(runtime, provider)
    # Who started it travels with the state, for the audit entry the callback writes.
    actor = f"{caller.actor_type.value}:{caller.actor_id}"
    # Started in a browser, it can only be finished in that browser: a consent link sent
    # to someone else cannot attach their account to this workspace.
    state = await _states(runtime).issue(caller.tenant_id, provider, actor, caller.session_id)
    try:
        return AuthorizationStart(authorization_url=chosen.authorization_url(state))
    except AuthorizationError as exc:
        raise ApiError(400, "not_supported", str(exc)) from None


@router.get(
    "/connections/{provider}/callback",
    operation_id="connections-callback",
    status_code=201,
    response_model=ConnectionOut,
)
async def callback(
    provider: str, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Any:
    """Where the provider's consent page sends the browser back. A browser is sent on to
    the web app's connections page (`?connected=<provider>`, or `?error=<why>`); other
    clients get the connection (201) or the error."""
    try:
        connected = await _complete(provider, request, runtime, session)
    except ApiError as exc:
        if _wants_page(request):
            query = urlencode({"error": exc.message})
            return RedirectResponse(f"/app/connections?{query}", status_code=303)
        raise
    if _wants_page(request):
        return RedirectResponse(f"/app/connections?connected={provider}", status_code=303)
    return connected


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def _complete(
    provider: str, request: Request, runtime: Runtime, session: AsyncSession
) -> ConnectionOut:
    chosen = _provider(runtime, provider)
    params = dict(request.query_params)
    try:
        state = await _states(runtime).consume(params.get("state", ""), provider)
    except StateError as exc:
        raise ApiError(400, "invalid_state", str(exc), field="state") from None
    if state.browser_session is not None:
        token = request.cookies.get(SESSION_COOKIE, "")
        found = await find_session(session, token) if token else None
        if found is None or found[0].id != state.browser_session:
            raise ApiError(
                400,
                "invalid_state",
                "finish connecting in the browser, and the log-in, that started it",
                field="state",
            )
    return await _connect(
        session,
        runtime,
        state.tenant_id,
        provider,
        chosen.complete_authorization(params),
        actor=_actor(state.actor_id),
    )


@router.post(
    "/api/connections/{provider}/credentials", operation_id="connections-paste", status_code=201
)
async def paste_credentials(
    provider: str,
    fields: dict[str, Any],
    caller: ManagerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConnectionOut:
    """Connect with pasted credentials (a long-lived token …), checked before saving."""
    chosen = _provider(runtime, provider)
    return await _connect(
        session,
        runtime,
        caller.tenant_id,
        provider,
        _probed(chosen, chosen.connect_with_credentials(fields)),
        actor=(caller.actor_type, caller.actor_id),
    )


async def _probed(
    provider: ConnectionProvider, connecting: Awaitable[NewConnection]
) -> NewConnection:
    """Pasted credentials are saved only once a call made with them has worked: a typo
    must not replace credentials that work."""
    new = await connecting
    probe = await provider.probe(new.secrets, new.details)
    if not probe.ok:
        raise AuthorizationError(f"the {provider.title} credentials do not work: {probe.detail}")
    return new


def _actor(recorded: str) -> tuple[ActorType, str]:
    kind, _, actor_id = recorded.partition(":")
    try:
        return ActorType(kind), actor_id
    except ValueError:  # a state issued before actors carried their kind
        return ActorType.api_key, recorded


async def _connect(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    provider: str,
    connecting: Awaitable[NewConnection],
    *,
    actor: tuple[ActorType, str],
) -> ConnectionOut:
    """Store what the provider connected, or say why it could not (storing nothing)."""
    try:
        new = await connecting
    except AuthorizationError as exc:
        raise ApiError(400, "authorization_failed", str(exc)) from None
    connection = await service.save_connection(
        session,
        runtime.secretbox,
        tenant_id,
        provider,
        new,
        actor_type=actor[0],
        actor_id=actor[1],
    )
    log.info("tenant %s connected %s account %s", tenant_id, provider, new.account_ref)
    return ConnectionOut.model_validate(connection)


@router.get("/connections/{provider}/disconnect", operation_id="connections-disconnect")
async def disconnect(
    provider: str, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Disconnected:
    """The provider tells Junction an account removed the integration."""
    chosen = _provider(runtime, provider)
    account_ref = chosen.disconnected_account(dict(request.query_params))
    if account_ref is None:
        raise ApiError(401, "bad_signature", "the disconnect call is not signed by the provider")
    return Disconnected(revoked=await service.revoke_account(session, provider, account_ref))


@router.get("/api/connections/{connection_id}/checks", operation_id="connections-checks")
async def connection_checks(
    connection_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CheckOut]:
    """The connection's health checks, newest first (kept for 30 days)."""
    await _connection(session, connection_id)
    rows = await session.scalars(
        select(ConnectionCheck)
        .where(ConnectionCheck.connection_id == connection_id)
        .order_by(ConnectionCheck.checked_at.desc())
        .limit(limit)
    )
    return [CheckOut.model_validate(row) for row in rows]


@router.post("/api/connections/{connection_id}/check", operation_id="connections-check")
async def check_now(
    connection_id: uuid.UUID, caller: ManagerDep, runtime: RuntimeDep, session: SessionDep
) -> CheckOut:
    """Check the connection now (renewing it if it is due), rather than at its turn."""
    await _connection(session, connection_id)
    check = await check_connection(runtime, caller.tenant_id, connection_id)
    if check is None:
        raise ApiError(404, "not_found", "no such connection")
    return CheckOut.model_validate(check)


async def _connection(session: AsyncSession, connection_id: uuid.UUID) -> Connection:
    row = await session.scalar(select(Connection).where(Connection.id == connection_id))
    if row is None:
        raise ApiError(404, "not_found", "no such connection")
    return row
