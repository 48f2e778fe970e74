"""`/api/staff/…`: the platform operators' console.

Staff are users marked as such (`junction staff grant EMAIL`), signed in with a browser
session. Installing and uninstalling plugins is theirs; configuring them is the tenant's
admins'. Every staff action is written to the tenant's audit log (and ending sessions
to the log of every workspace the person belongs to).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.service import memberships
from junction.accounts.sessions import end_sessions
from junction.api.deps import Browser, RuntimeDep, SessionDep, get_browser
from junction.api.errors import ApiError
from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.audit.routes import AuditOut, audit_page
from junction.billing.models import TenantBilling
from junction.billing.routes import describe as describe_billing
from junction.billing.schemas import BillingOut, GrantIn
from junction.billing.subscriptions import billing_row
from junction.connections.models import Connection, ConnectionStatus
from junction.connections.schemas import ConnectionOut, UnhealthyConnectionOut
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import Event, EventStatus
from junction.events.routes import ResolveIn, resolve_as
from junction.events.schemas import EventSummary
from junction.intake.models import InboundEndpoint
from junction.plugins.described import Described, plugin_words
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError
from junction.plugins.routes import InstallationOut, installation_out
from junction.runtime import Runtime
from junction.tenancy.models import Membership, Tenant, TenantStatus, User
from junction.validation import UtcDatetime

router = APIRouter(prefix="/api/staff", tags=["staff"])


async def require_staff(browser: Annotated[Browser, Depends(get_browser)]) -> Browser:
    if not browser.user.is_staff:
        raise ApiError(403, "forbidden", "this is for Junction's staff")
    if browser.impersonating:
        raise ApiError(403, "read_only", "end the impersonation first")
    return browser


StaffDep = Annotated[Browser, Depends(require_staff)]


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    status: TenantStatus
    created_at: datetime
    members: int = 0
    plugins: list[str] = Field(default_factory=list)


class InstallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(min_length=1, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)


def _record(
    session: AsyncSession,
    staff: Browser,
    tenant_id: uuid.UUID,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    diff: dict[str, Any],
) -> None:
    audit.record(
        session,
        tenant_id,
        actor_type=ActorType.staff,
        actor_id=str(staff.user.id),
        action=action,
        target_type=target_type,
        target_id=target_id,
        diff=diff,
    )


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise ApiError(404, "not_found", "no such tenant")
    scope_to_tenant(session, tenant.id)
    return tenant


async def _describe(session: AsyncSession, tenants: list[Tenant]) -> list[TenantOut]:
    ids = [tenant.id for tenant in tenants]
    with cross_tenant(session, "staff: members and plugins of the listed tenants"):
        counts = dict(
            (
                await session.execute(
                    select(Membership.tenant_id, func.count())
                    .where(Membership.tenant_id.in_(ids))
                    .group_by(Membership.tenant_id)
                )
            ).all()
        )
        plugins: dict[uuid.UUID, list[str]] = {}
        for tenant_id, plugin in await session.execute(
            select(PluginInstallation.tenant_id, PluginInstallation.plugin)
            .where(PluginInstallation.tenant_id.in_(ids))
            .order_by(PluginInstallation.plugin)
        ):
            plugins.setdefault(tenant_id, []).append(plugin)
    return [
        TenantOut.model_validate(tenant).model_copy(
            update={"members": counts.get(tenant.id, 0), "plugins": plugins.get(tenant.id, [])}
        )
        for tenant in tenants
    ]


@router.get("/tenants", operation_id="staff-tenants")
async def list_tenants(
    staff: StaffDep,
    session: SessionDep,
    q: Annotated[
        str, Query(max_length=200, description="Part of a slug, a name or a member's email.")
    ] = "",
    status: TenantStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TenantOut]:
    query = select(Tenant).order_by(Tenant.slug).limit(limit).offset(offset)
    if status is not None:
        query = query.where(Tenant.status == status)
    if q:
        pattern = f"%{q.lower()}%"
        members = (
            select(Membership.tenant_id)
            .join(User, User.id == Membership.user_id)
            .where(User.email.like(pattern))
        )
        query = query.where(
            or_(
                func.lower(Tenant.slug).like(pattern),
                func.lower(Tenant.name).like(pattern),
                Tenant.id.in_(members),
            )
        )
    with cross_tenant(session, "staff: search tenants"):
        tenants = list(await session.scalars(query))
    return await _describe(session, tenants)


@router.get("/tenants/{tenant_id}", operation_id="staff-tenant")
async def get_tenant(tenant_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TenantOut:
    [described] = await _describe(session, [await _tenant(session, tenant_id)])
    return described


async def _set_status(
    session: AsyncSession, staff: Browser, tenant_id: uuid.UUID, status: TenantStatus
) -> TenantOut:
    tenant = await _tenant(session, tenant_id)
    if tenant.status is TenantStatus.deleted:
        raise ApiError(409, "deleted", "this tenant has been deleted")
    if tenant.status is not status:
        _record(
            session,
            staff,
            tenant.id,
            f"tenant.{'suspended' if status is TenantStatus.suspended else 'resumed'}",
            "tenant",
            tenant.id,
            {"status": {"from": tenant.status, "to": status}},
        )
        tenant.status = status
        await session.commit()
    [described] = await _describe(session, [tenant])
    return described


@router.post("/tenants/{tenant_id}/suspend", operation_id="staff-suspend")
async def suspend(tenant_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TenantOut:
    """Pause the tenant's work: its webhooks are still accepted, its events wait."""
    return await _set_status(session, staff, tenant_id, TenantStatus.suspended)


@router.post("/tenants/{tenant_id}/resume", operation_id="staff-resume")
async def resume(tenant_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> TenantOut:
    """Let the tenant's waiting events run again."""
    return await _set_status(session, staff, tenant_id, TenantStatus.active)


class PluginOut(Described):
    name: str
    version: str


@router.get("/plugins", operation_id="staff-plugins")
async def plugins(staff: StaffDep, runtime: RuntimeDep) -> list[PluginOut]:
    """The plugins this installation has loaded: what staff can install."""
    return [
        PluginOut(name=name, version=loaded.info.version, **plugin_words(runtime.registry, name))
        for name, loaded in sorted(runtime.registry.plugins.items())
    ]


@router.post("/tenants/{tenant_id}/installations", status_code=201, operation_id="staff-install")
async def install(
    tenant_id: uuid.UUID, body: InstallIn, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> InstallationOut:
    """Install a plugin for the tenant; its admins configure it from then on. Without a
    configuration (`config: {}`) it is installed unconfigured: the tenant's admins fill
    it in from the web app, and until then its events fail saying so (replayable)."""
    tenant = await _tenant(session, tenant_id)
    if body.plugin not in runtime.registry.plugins:
        known = ", ".join(sorted(runtime.registry.plugins))
        raise ApiError(
            422, "unknown_plugin", f"no plugin {body.plugin!r}; known: {known}", field="plugin"
        )
    config: dict[str, Any] = {}
    if body.config:
        try:
            config = runtime.registry.validate_config(body.plugin, body.config).model_dump(
                mode="json"
            )
        except PluginError as exc:
            raise ApiError(422, "invalid_config", str(exc), field="config") from None
    existing = await session.scalar(
        select(PluginInstallation).where(PluginInstallation.plugin == body.plugin)
    )
    if existing is not None:
        raise ApiError(409, "installed", f"{body.plugin!r} is already installed for this tenant")
    if runtime.billing is not None:
        standing = runtime.billing.standing(await session.get(TenantBilling, tenant.id), utcnow())
        if not standing.plan.allows(body.plugin):
            raise ApiError(
                409,
                "not_in_plan",
                f"the tenant's {standing.plan.name} plan does not include {body.plugin!r}: "
                "the tenant changes plan, or staff grant one that does",
                field="plugin",
            )
    row = PluginInstallation(tenant_id=tenant.id, plugin=body.plugin, config=config)
    session.add(row)
    await session.flush()
    _record(
        session,
        staff,
        tenant.id,
        "installation.installed",
        "installation",
        row.id,
        {"plugin": {"from": None, "to": body.plugin}, "config": {"from": None, "to": config}},
    )
    await session.commit()
    return installation_out(runtime, row)


@router.delete(
    "/tenants/{tenant_id}/installations/{installation_id}",
    status_code=204,
    operation_id="staff-uninstall",
)
async def uninstall(
    tenant_id: uuid.UUID, installation_id: uuid.UUID, staff: StaffDep, session: SessionDep
) -> None:
    """Remove a plugin; the endpoints routed to it keep accepting and stop being routed."""
    tenant = await _tenant(session, tenant_id)
    row = await session.scalar(
        select(PluginInstallation).where(PluginInstallation.id == installation_id)
    )
    if row is None:
        raise ApiError(404, "not_found", "no such installation for this tenant")
    _record(
        session,
        staff,
        tenant.id,
        "installation.uninstalled",
        "installation",
        row.id,
        {"plugin": {"from": row.plugin, "to": None}, "config": {"from": row.config, "to": None}},
    )
    await session.delete(row)
    await session.commit()


@router.post("/tenants/{tenant_id}/impersonate", operation_id="staff-impersonate")
async def impersonate(tenant_id: uuid.UUID, staff: StaffDep, session: SessionDep) -> dict[str, str]:
    """Look at the tenant's workspace through this session, read-only, every request
    audited, until `POST /api/staff/impersonation/end`."""
    tenant = await _tenant(session, tenant_id)
    _record(session, staff, tenant.id, "staff.impersonation_started", "tenant", tenant.id, {})
    staff.session.impersonating = True
    staff.session.tenant_id = tenant.id
    await session.commit()
    return {"workspace": tenant.slug, "role": "viewer"}


@router.post("/impersonation/end", operation_id="staff-impersonation-end")
async def end_impersonation(
    browser: Annotated[Browser, Depends(get_browser)], session: SessionDep
) -> dict[str, str]:
    if not browser.user.is_staff:
        raise ApiError(403, "forbidden", "this is for Junction's staff")
    if not browser.impersonating:
        raise ApiError(409, "not_impersonating", "this session is not impersonating anyone")
    if browser.tenant_id is not None:
        _record(
            session,
            browser,
            browser.tenant_id,
            "staff.impersonation_ended",
            "tenant",
            browser.tenant_id,
            {},
        )
    browser.session.impersonating = False
    # Back in a workspace of their own, as after logging in.
    own = await memberships(session, browser.user.id)
    browser.session.tenant_id = own[0][0].id if own else None
    await session.commit()
    return {"message": "back to the staff console"}


@router.post("/users/{user_id}/sessions/end", operation_id="staff-end-user-sessions")
async def end_user_sessions(
    user_id: uuid.UUID, staff: StaffDep, session: SessionDep
) -> dict[str, int]:
    """Sign a person out everywhere (a lost laptop, a leaver)."""
    user = await session.get(User, user_id)
    if user is None:
        raise ApiError(404, "not_found", "no such user")
    ended = await end_sessions(session, user.id)
    with cross_tenant(session, "staff: the workspaces of a signed-out person"):
        tenant_ids = list(
            await session.scalars(select(Membership.tenant_id).where(Membership.user_id == user.id))
        )
    for tenant_id in tenant_ids:
        _record(
            session,
            staff,
            tenant_id,
            "staff.sessions_ended",
            "member",
            user.id,
            {"sessions": {"from": ended, "to": 0}},
        )
    await session.commit()
    return {"ended": ended}


@router.post("/sessions/end-all", operation_id="staff-end-all-sessions")
async def end_all_sessions(staff: StaffDep, session: SessionDep) -> dict[str, int]:
    """Sign everyone out, staff included (after a leak, say)."""
    ended = await end_sessions(session, None)
    await session.commit()
    return {"ended": ended}


@router.get("/tenants/{tenant_id}/audit", operation_id="staff-tenant-audit")
async def tenant_audit(
    tenant_id: uuid.UUID,
    staff: StaffDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: UtcDatetime | None = None,
) -> list[AuditOut]:
    await _tenant(session, tenant_id)
    return await audit_page(session, limit, before)


@router.get("/connections", operation_id="staff-connections")
async def unhealthy_connections(
    staff: StaffDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[UnhealthyConnectionOut]:
    """Every connection, across tenants, that is not healthy, with the events it holds up."""
    paused = (
        select(Event.paused_connection_id, func.count().label("paused"))
        .where(Event.status == EventStatus.paused)
        .group_by(Event.paused_connection_id)
        .subquery()
    )
    with cross_tenant(session, "staff: unhealthy connections of every tenant"):
        rows = await session.execute(
            select(Connection, Tenant.slug, func.coalesce(paused.c.paused, 0))
            .join(Tenant, Tenant.id == Connection.tenant_id)
            .outerjoin(paused, paused.c.paused_connection_id == Connection.id)
            .where(Connection.status != ConnectionStatus.healthy)
            .order_by(func.coalesce(paused.c.paused, 0).desc(), Connection.updated_at)
            .limit(limit)
        )
        return [
            UnhealthyConnectionOut.model_validate(
                {
                    **ConnectionOut.model_validate(connection).model_dump(),
                    "tenant_id": connection.tenant_id,
                    "tenant_slug": slug,
                    "paused_events": count,
                }
            )
            for connection, slug, count in rows.all()
        ]


class StaffInstallationOut(Described):
    id: uuid.UUID
    plugin: str
    enabled: bool
    # Whether its configuration is complete (one installed without it is not, until the
    # tenant's admins fill it in).
    configured: bool
    # Webhook URLs that send it their events.
    endpoints: int
    created_at: datetime


@router.get("/tenants/{tenant_id}/installations", operation_id="staff-tenant-installations")
async def tenant_installations(
    tenant_id: uuid.UUID, staff: StaffDep, session: SessionDep, runtime: RuntimeDep
) -> list[StaffInstallationOut]:
    """The tenant's plugins: whether each is configured, and how many URLs feed it."""
    await _tenant(session, tenant_id)
    feeding = (
        select(InboundEndpoint.installation_id, func.count().label("endpoints"))
        .group_by(InboundEndpoint.installation_id)
        .subquery()
    )
    rows = await session.execute(
        select(PluginInstallation, func.coalesce(feeding.c.endpoints, 0))
        .outerjoin(feeding, feeding.c.installation_id == PluginInstallation.id)
        .order_by(PluginInstallation.plugin)
    )
    return [
        StaffInstallationOut(
            id=row.id,
            plugin=row.plugin,
            enabled=row.enabled,
            configured=_valid(runtime, row),
            endpoints=count,
            created_at=row.created_at,
            **plugin_words(runtime.registry, row.plugin),
        )
        for row, count in rows.all()
    ]


def _valid(runtime: Runtime, installation: PluginInstallation) -> bool:
    try:
        runtime.registry.validate_config(installation.plugin, installation.config)
    except PluginError:
        return False
    return True


class FailingEventOut(EventSummary):
    tenant_id: uuid.UUID
    tenant_slug: str
    # The plugin its endpoint sends it to (none once the endpoint is gone).
    plugin: str | None


FAILING = (EventStatus.failed, EventStatus.needs_review)


@router.get("/events", operation_id="staff-failing-events")
async def failing_events(
    staff: StaffDep,
    session: SessionDep,
    tenant_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailingEventOut]:
    """Events that failed or wait for a person's review, across tenants (or one), the most
    recent first: what to look at before a tenant notices."""
    query = (
        select(Event, Tenant.slug, PluginInstallation.plugin)
        .join(Tenant, Tenant.id == Event.tenant_id)
        .outerjoin(InboundEndpoint, InboundEndpoint.id == Event.endpoint_id)
        .outerjoin(PluginInstallation, PluginInstallation.id == InboundEndpoint.installation_id)
        .where(Event.status.in_(FAILING))
        .order_by(Event.updated_at.desc())
        .limit(limit)
    )
    if tenant_id is not None:
        query = query.where(Event.tenant_id == tenant_id)
    with cross_tenant(session, "staff: failing events of every tenant"):
        rows = (await session.execute(query)).all()
    return [
        FailingEventOut.model_validate(
            {
                **EventSummary.model_validate(event).model_dump(),
                "tenant_id": event.tenant_id,
                "tenant_slug": slug,
                "plugin": plugin,
            }
        )
        for event, slug, plugin in rows
    ]


@router.post("/tenants/{tenant_id}/events/{event_id}/resolve", operation_id="staff-resolve-event")
async def resolve_event(
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    body: ResolveIn,
    staff: StaffDep,
    session: SessionDep,
) -> EventSummary:
    """Settle a tenant's event under review, as the tenant's admins can."""
    await _tenant(session, tenant_id)
    return await resolve_as(session, event_id, body, ActorType.staff, str(staff.user.id))


@router.get("/tenants/{tenant_id}/billing", operation_id="staff-tenant-billing")
async def tenant_billing(
    tenant_id: uuid.UUID, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> BillingOut:
    """The tenant's plan, subscription, usage and the events billing paused."""
    await _tenant(session, tenant_id)
    return await describe_billing(session, runtime, tenant_id)


@router.put("/tenants/{tenant_id}/billing/plan", operation_id="staff-grant-plan")
async def grant_plan(
    tenant_id: uuid.UUID, body: GrantIn, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> BillingOut:
    """Give the tenant a plan by hand, whatever it pays for (a partner, a pilot), or take
    a granted plan back (`plan: null`). Audited, with the reason."""
    tenant = await _tenant(session, tenant_id)
    if runtime.billing is None:
        raise ApiError(409, "billing_off", "billing is off on this installation")
    if body.plan is not None and runtime.billing.plans.find(body.plan) is None:
        known = ", ".join(plan.key for plan in runtime.billing.plans.plans)
        raise ApiError(
            422, "unknown_plan", f"no plan {body.plan!r}; the plans: {known}", field="plan"
        )
    row = await billing_row(session, tenant.id)
    if row.granted_plan != body.plan:
        _record(
            session,
            staff,
            tenant.id,
            "billing.plan_granted" if body.plan else "billing.grant_withdrawn",
            "tenant",
            tenant.id,
            {"granted_plan": {"from": row.granted_plan, "to": body.plan}, "reason": body.reason},
        )
        row.granted_plan = body.plan
        row.granted_at = utcnow() if body.plan else None
        await session.commit()
    return await describe_billing(session, runtime, tenant.id)
