"""Dependencies shared by the routers: the runtime, a session, the calling tenant.

A caller is a program with a tenant's API key (`Authorization: Bearer …`) or a person
in a browser session (cookie). A browser's changes must carry its CSRF token in the
`X-CSRF-Token` header: a page elsewhere can make the browser send the cookie, but
cannot read the token.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.models import UserSession
from junction.accounts.sessions import CSRF_HEADER, SESSION_COOKIE, find_session
from junction.api.errors import ApiError
from junction.audit import service as audit
from junction.audit.models import ActorType, AuditEntry
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.runtime import Runtime
from junction.tenancy.api_keys import authenticate_api_key
from junction.tenancy.models import Membership, Role, Tenant, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


@dataclass
class Browser:
    """A signed-in person, and the workspace the browser is working in (if any)."""

    session: UserSession
    user: User
    tenant_id: uuid.UUID | None
    tenant_slug: str | None
    role: Role | None
    impersonating: bool
    tenant_name: str | None = None

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @classmethod
    async def of(cls, session: AsyncSession, row: UserSession, user: User) -> Browser:
        tenant_id, slug, name, role = row.tenant_id, None, None, None
        if tenant_id is not None:
            with cross_tenant(session, "the workspace of a browser session"):
                found = (
                    await session.execute(
                        select(Tenant.slug, Tenant.name, Membership.role)
                        .select_from(Tenant)
                        .outerjoin(
                            Membership,
                            (Membership.tenant_id == Tenant.id) & (Membership.user_id == user.id),
                        )
                        .where(Tenant.id == tenant_id)
                    )
                ).first()
            if found is not None:
                slug, name, role = found
            # Staff looking at a workspace read-only need no membership in it.
            if row.impersonating and slug is not None:
                role = Role.viewer
            if role is None:
                tenant_id, slug, name = None, None, None
        return cls(row, user, tenant_id, slug, role, row.impersonating, name)


async def get_browser(request: Request, session: SessionDep) -> Browser:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await find_session(session, token) if token else None
    if found is None:
        if not token and _bearer(request):
            raise ApiError(403, "forbidden", "this needs a signed-in person, not an API key")
        raise ApiError(401, "unauthorized", "log in first: this browser has no live session")
    row, user = found
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(presented.encode(), row.csrf_token.encode()):
            raise ApiError(
                403,
                "csrf_failed",
                "the X-CSRF-Token header is missing or wrong; reload the page and try again",
            )
    return await Browser.of(session, row, user)


BrowserDep = Annotated[Browser, Depends(get_browser)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: a tenant, and the API key or the person acting for it."""

    tenant_id: uuid.UUID
    role: Role
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    # A staff member looking at the workspace, read-only.
    impersonating: bool = False
    # The browser session a person calls from.
    session_id: uuid.UUID | None = None

    @property
    def actor_type(self) -> ActorType:
        if self.impersonating:
            return ActorType.staff
        return ActorType.api_key if self.api_key_id is not None else ActorType.user

    @property
    def actor_id(self) -> str:
        return str(self.api_key_id if self.api_key_id is not None else self.user_id)

    def record(
        self,
        session: AsyncSession,
        action: str,
        target_type: str,
        target_id: uuid.UUID | str | None,
        diff: dict[str, Any],
    ) -> AuditEntry:
        """Write what this caller changed in its workspace to the audit log."""
        return audit.record(
            session,
            self.tenant_id,
            actor_type=self.actor_type,
            actor_id=self.actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            diff=diff,
        )


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key", "").strip()


async def get_caller(request: Request, session: SessionDep) -> Caller:
    presented = _bearer(request)
    if presented:
        api_key = await authenticate_api_key(session, presented)
        if api_key is None:
            raise ApiError(
                401,
                "unauthorized",
                "the API key is not valid",
                headers={"WWW-Authenticate": "Bearer"},
            )
        scope_to_tenant(session, api_key.tenant_id)
        return Caller(tenant_id=api_key.tenant_id, role=api_key.role, api_key_id=api_key.id)
    if SESSION_COOKIE not in request.cookies:
        raise ApiError(
            401,
            "unauthorized",
            "log in, or send an API key: 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    browser = await get_browser(request, session)
    if browser.tenant_id is None or browser.role is None:
        raise ApiError(403, "no_workspace", "choose one of your workspaces first")
    if browser.impersonating and request.method not in SAFE_METHODS:
        raise ApiError(403, "read_only", "an impersonating session can only look")
    scope_to_tenant(session, browser.tenant_id)
    if browser.impersonating:
        # What staff looked at is the tenant's to read in its audit log.
        route = request.scope.get("route")
        audit.record(
            session,
            browser.tenant_id,
            actor_type=ActorType.staff,
            actor_id=str(browser.user.id),
            action="staff.viewed",
            target_type="route",
            target_id=getattr(route, "path", request.url.path)[:64],
            diff={},
        )
        await session.commit()
    return Caller(
        tenant_id=browser.tenant_id,
        role=browser.role,
        user_id=browser.user.id,
        impersonating=browser.impersonating,
        session_id=browser.session.id,
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


MANAGER_ROLES = (Role.owner, Role.admin)


async def require_manager(caller: CallerDep) -> Caller:
    if caller.role not in MANAGER_ROLES:
        raise ApiError(403, "forbidden", "this needs an owner or an admin")
    return caller


# A caller allowed to change the tenant's set-up (connections, replays …).
ManagerDep = Annotated[Caller, Depends(require_manager)]
