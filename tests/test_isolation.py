"""Every route that takes an id, tried with another tenant's credentials: 404 or 403,
never the data. The routes come from the application's own schema, so a new route is
walked as soon as it exists; a path parameter this test does not know fails it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from junction.alerts.models import AlertChannel, ChannelKind
from junction.connections.models import Connection
from junction.tenancy.models import Role
from tests.factories import (
    ApiKeyFactory,
    EventFactory,
    InboundEndpointFactory,
    MembershipFactory,
    PluginInstallationFactory,
    TenantFactory,
    secretbox,
)
from tests.support.accounts import sign_in

# Path parameters that name no tenant's object, and why.
NOT_IDS = {
    "token": "a webhook URL's secret: it is the credential, tried in the intake tests",
    "provider": "a plugin's name, the same for every tenant",
}
# A body each operation accepts, so the answer is about the id and not the body.
BODIES: dict[str, Any] = {
    "installations-save-config": {"config": {}},
    "installations-preview": {"payload": {"order_id": "1"}},
    "endpoints-rotate-token": {},
    "members-set-role": {"role": "viewer"},
    "alerts-channel-update": {"name": "mine now"},
    "alerts-channel-create": {"kind": "email", "name": "ops", "recipients": ["o@example.com"]},
    "alerts-settings-update": {"reminder_hours": 12},
    "events-resolve": {"applied": False},
    "staff-resolve-event": {"applied": False},
    "billing-choose-plan": {"plan": "starter"},
    "endpoints-create": {"name": "shop", "source_format": "echo"},
    "endpoints-rotate-secret": {"enabled": True},
    "staff-grant-plan": {"plan": "starter", "reason": "a test"},
}


async def test_no_route_hands_out_another_tenants_objects(
    app: FastAPI, session: AsyncSession
) -> None:
    theirs = PluginInstallationFactory()
    endpoint = InboundEndpointFactory(installation=theirs)
    event = EventFactory(
        endpoint=endpoint, payload={"order_id": "their-secret-order"}, replay_id=uuid.uuid4()
    )
    member = MembershipFactory(tenant=theirs.tenant, role=Role.admin)
    their_key = ApiKeyFactory(tenant=theirs.tenant, role=Role.admin)
    their_connection = Connection(
        id=uuid.uuid4(),
        tenant_id=theirs.tenant_id,
        provider="amocrm",
        account_ref="1",
        name="theirs",
        secrets_encrypted=secretbox.encrypt_json({"access_token": "their-token"}),
    )
    session.add(their_connection)
    their_channel = AlertChannel(
        id=uuid.uuid4(),
        tenant_id=theirs.tenant_id,
        kind=ChannelKind.email,
        name="theirs",
        recipients=["their-ops@example.com"],
    )
    session.add(their_channel)
    ids = {
        "event_id": event.id,
        "endpoint_id": endpoint.id,
        "installation_id": theirs.id,
        "user_id": member.user_id,
        "tenant_id": theirs.tenant_id,
        "key_id": their_key.id,
        "connection_id": their_connection.id,
        "channel_id": their_channel.id,
        "replay_id": event.replay_id,
    }
    ours = TenantFactory()
    ApiKeyFactory(tenant=ours, key="jk_isolation_owner", role=Role.owner)
    await session.commit()
    browser = await sign_in(app, session, ours, Role.owner)
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://junction.test",
        headers={"Authorization": "Bearer jk_isolation_owner"},
    )
    walked = 0
    try:
        for path, operations in app.openapi()["paths"].items():
            names = re.findall(r"{(\w+)}", path)
            if not names or any(name in NOT_IDS for name in names):
                continue
            unknown = [name for name in names if name not in ids]
            assert not unknown, f"{path}: teach this test what {unknown} names"
            url = path.format(**{name: ids[name] for name in names})
            for method, operation in operations.items():
                body = BODIES.get(operation["operationId"])
                for client, headers in ((browser.client, browser.headers), (api, {})):
                    answer = await client.request(method.upper(), url, json=body, headers=headers)
                    assert answer.status_code in (403, 404), (
                        f"{method.upper()} {path}: {answer.status_code} {answer.text}"
                    )
                    assert str(theirs.tenant_id) not in answer.text
                    assert "their-secret-order" not in answer.text
                    walked += 1
    finally:
        await browser.client.aclose()
        await api.aclose()
    assert walked >= 14


async def test_a_viewer_changes_nothing(app: FastAPI, session: AsyncSession) -> None:
    """Every route that changes a workspace, called by its viewer: 403."""
    ours = TenantFactory()
    other = MembershipFactory(tenant=ours, role=Role.admin)
    await session.commit()
    ids = {
        name: uuid.uuid4()
        for name in (
            "event_id",
            "endpoint_id",
            "installation_id",
            "tenant_id",
            "key_id",
            "connection_id",
            "channel_id",
            "replay_id",
        )
    }
    ids["user_id"] = other.user_id
    walked = 0
    async with await sign_in(app, session, ours, Role.viewer) as viewer:
        for path, operations in app.openapi()["paths"].items():
            if not path.startswith("/api/") or path.startswith("/api/auth/"):
                continue
            names = re.findall(r"{(\w+)}", path)
            if any(name in NOT_IDS for name in names):
                continue
            url = path.format(**{name: ids[name] for name in names})
            for method, operation in operations.items():
                # Joining a workspace is the invited person's own act, whatever their role.
                if method == "get" or operation["operationId"] == "invitations-accept":
                    continue
                body = BODIES.get(operation["operationId"])
                answer = await viewer.client.request(
                    method.upper(), url, json=body, headers=viewer.headers
                )
                assert answer.status_code == 403, (
                    f"{method.upper()} {path}: {answer.status_code} {answer.text}"
                )
                walked += 1
    assert walked >= 15
