"""Dependencies shared by the routers: the runtime, a session, the calling tenant."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.errors import ApiError
from junction.db.tenancy import scope_to_tenant
from junction.runtime import Runtime
from junction.tenancy.api_keys import authenticate_api_key
from junction.tenancy.models import Role


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    # Async: FastAPI would run a plain function in a worker thread, for every request.
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: a tenant and, for now, the API key acting for it."""

    tenant_id: uuid.UUID
    api_key_id: uuid.UUID
    role: Role


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key", "").strip()


async def get_caller(request: Request, session: SessionDep) -> Caller:
    presented = _bearer(request)
    if not presented:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    api_key = await authenticate_api_key(session, presented)
    if api_key is None:
        raise ApiError(
            401, "unauthorized", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"}
        )
    scope_to_tenant(session, api_key.tenant_id)
    return Caller(tenant_id=api_key.tenant_id, api_key_id=api_key.id, role=api_key.role)


CallerDep = Annotated[Caller, Depends(get_caller)]


MANAGER_ROLES = (Role.owner, Role.admin)


async def require_manager(caller: CallerDep) -> Caller:
    if caller.role not in MANAGER_ROLES:
        raise ApiError(403, "forbidden", "this needs an owner's or an admin's key")
    return caller


# A caller allowed to change the tenant's set-up (connections, replays …).
ManagerDep = Annotated[Caller, Depends(require_manager)]
