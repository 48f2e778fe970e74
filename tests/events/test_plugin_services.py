"""What the core lends an integration: a checkpoint kept across attempts, connections."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import Event, EventStatus, PauseCause
from junction.events.processing import process_event
from junction.events.replay import ReplayFilter, replay
from junction.plugins import hookimpl
from junction.plugins.interfaces import EventContext, Integration, PluginInfo
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from tests.factories import EventFactory, InboundEndpointFactory, PluginInstallationFactory
from tests.support.events import reload_event


class Recording(Integration):
    """Creates one 'outside record' per event, unless its checkpoint says it did."""

    def __init__(self) -> None:
        self.created: list[uuid.UUID] = []
        self.fail_after_create = True
        self.seen_formats: list[str] = []

    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        self.seen_formats.append(event.source_format)
        if event.checkpoint.get("record") is None:
            self.created.append(event.event_id)
            await event.checkpoint.save(record=len(self.created))
        if self.fail_after_create:
            self.fail_after_create = False
            raise RuntimeError("the worker died right after creating the record")
        return {"record": event.checkpoint.get("record")}


class ConnectionUser(Integration):
    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        assert event.services is not None
        credentials = await event.services.connection("amocrm")
        current = await credentials.load()
        return {"status": current.status.value}


class Plugin:
    def __init__(self, name: str, integration: Integration) -> None:
        self.name = name
        self.integration = integration

    @hookimpl
    def junction_plugin(self) -> PluginInfo:
        return PluginInfo(name=self.name, title=self.name, version="1")

    @hookimpl
    def junction_integration(self) -> Integration:
        return self.integration


@pytest.fixture
async def services_runtime(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis_url: str
) -> AsyncIterator[tuple[Runtime, Recording]]:
    recording = Recording()
    registry = build_registry(
        extra_plugins=[
            ("recording", Plugin("recording", recording)),
            ("connection-user", Plugin("connection-user", ConnectionUser())),
        ]
    )
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    yield runtime, recording
    await runtime.close()


async def test_a_checkpoint_survives_a_failed_attempt_and_a_replay(
    services_runtime: tuple[Runtime, Recording], session: AsyncSession
) -> None:
    runtime, recording = services_runtime
    installation: PluginInstallation = PluginInstallationFactory(plugin="recording")
    event = EventFactory(
        endpoint=InboundEndpointFactory(installation=installation, source_format="echo")
    )
    await session.commit()

    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.retrying
    assert (await reload_event(session, event)).checkpoint == {"record": 1}
    with cross_tenant(session, "test: the retry is due"):
        await session.execute(
            update(Event).where(Event.id == event.id).values(next_attempt_at=utcnow())
        )
    await session.commit()
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    assert (await reload_event(session, event)).result == {"record": 1}
    await session.commit()

    scope_to_tenant(session, event.tenant_id)
    assert await replay(session, runtime.queue, ReplayFilter(event_ids=(event.id,))) == 1
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    # Three attempts, one record: the checkpoint outlived the failure and the replay.
    assert recording.created == [event.id]
    assert recording.seen_formats == ["echo"] * 3


async def test_a_connection_is_lent_or_its_absence_explained(
    services_runtime: tuple[Runtime, Recording], session: AsyncSession
) -> None:
    runtime, _ = services_runtime
    installation: PluginInstallation = PluginInstallationFactory(plugin="connection-user")
    endpoint = InboundEndpointFactory(installation=installation)
    lonely = EventFactory(endpoint=endpoint)
    await session.commit()
    assert await process_event(runtime, lonely.tenant_id, lonely.id) is EventStatus.failed
    assert (await reload_event(session, lonely)).last_error == (
        "the workspace has no amoCRM connection; connect one"
    )
    await session.commit()

    connection = Connection(
        id=uuid.uuid4(),
        tenant_id=installation.tenant_id,
        provider="amocrm",
        name="amoCRM",
        account_ref="1",
        secrets_encrypted=runtime.secretbox.encrypt_json({"access_token": "t"}),
        details={},
        status=ConnectionStatus.healthy,
    )
    session.add(connection)
    served = EventFactory(endpoint=endpoint)
    await session.commit()
    assert await process_event(runtime, served.tenant_id, served.id) is EventStatus.done
    assert (await reload_event(session, served)).result == {"status": "healthy"}
    await session.commit()

    connection.status = ConnectionStatus.needs_reauth
    session.add(connection)
    paused = EventFactory(endpoint=endpoint)
    await session.commit()
    assert await process_event(runtime, paused.tenant_id, paused.id) is EventStatus.paused
    stored = await reload_event(session, paused)
    assert stored.pause_cause is PauseCause.connection
    assert stored.paused_connection_id == connection.id
