"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction import __version__
from junction.accounts.routes import router as accounts_router
from junction.alerts.routes import router as alerts_router
from junction.api.access_log import AccessLogMiddleware
from junction.api.errors import install_error_handlers
from junction.audit.routes import router as audit_router
from junction.billing.routes import router as billing_router
from junction.connections.routes import router as connections_router
from junction.events.routes import router as events_router
from junction.health import router as health_router
from junction.intake.endpoint_routes import router as endpoints_router
from junction.intake.routes import IntakeDispatch
from junction.intake.routes import router as intake_router
from junction.members.routes import router as members_router
from junction.plugins.registry import PluginRegistry
from junction.plugins.routes import router as installations_router
from junction.runtime import open_runtime
from junction.settings import Settings, load_settings
from junction.staff.routes import router as staff_router
from junction.tenancy.key_routes import router as keys_router
from junction.web import mount_web


def create_app(
    settings: Settings | None = None,
    *,
    registry: PluginRegistry | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the API. Its runtime (database, Redis, plugins) is opened in the lifespan."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, registry=registry, sessionmaker=sessionmaker)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="Junction",
        version=__version__,
        lifespan=lifespan,
        # Junction exports Prometheus metrics and JSON logs of its own; FastAPI's
        # OpenTelemetry hooks would only cost every request a look for providers.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # Added last, so outermost: every request is logged, deliveries included.
    app.add_middleware(IntakeDispatch)
    app.add_middleware(AccessLogMiddleware)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(intake_router)
    app.include_router(accounts_router)
    app.include_router(members_router)
    app.include_router(audit_router)
    app.include_router(keys_router)
    app.include_router(staff_router)
    app.include_router(events_router)
    app.include_router(connections_router)
    app.include_router(alerts_router)
    app.include_router(billing_router)
    app.include_router(endpoints_router)
    app.include_router(installations_router)
    # Last: the API's routes come first.
    mount_web(app, settings)
    return app
