"""Connecting amoCRM: the whole OAuth flow against the sandbox over HTTP."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.app import create_app
from junction.audit.models import AuditEntry
from junction.connections.models import Connection
from junction.db.tenancy import cross_tenant
from junction.plugins.registry import build_registry
from junction.settings import Settings
from junction.tenancy.api_keys import hash_api_key
from junction.tenancy.models import ApiKey, Role, Tenant
from tests.factories import ApiKeyFactory, TenantFactory, secretbox
from tests.support.accounts import sign_in
from tests.support.amocrm_sandbox import consent

ADMIN_KEY = "jk_admin_" + "a" * 43
VIEWER_KEY = "jk_viewer_" + "v" * 43


@pytest.fixture
async def amocrm_app(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: httpx.Client,
    sandbox_url: str,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> AsyncIterator[tuple[FastAPI, Tenant]]:
    integration = sandbox.get("/_sandbox/integration").json()
    monkeypatch.setenv("JUNCTION_AMOCRM_CLIENT_ID", integration["client_id"])
    monkeypatch.setenv("JUNCTION_AMOCRM_CLIENT_SECRET", integration["client_secret"])
    monkeypatch.setenv("JUNCTION_AMOCRM_REDIRECT_URI", integration["redirect_uri"])
    monkeypatch.setenv("JUNCTION_AMOCRM_CONSENT_URL", f"{sandbox_url}/oauth")
    monkeypatch.setenv("JUNCTION_AMOCRM_EXTRA_HOSTS", sandbox_url)
    tenant = TenantFactory()
    ApiKeyFactory(tenant=tenant, key=ADMIN_KEY, role=Role.admin)
    ApiKeyFactory(tenant=tenant, key=VIEWER_KEY, role=Role.viewer)
    await session.commit()
    app = create_app(settings, registry=build_registry(), sessionmaker=sessionmaker)
    async with LifespanManager(app):
        yield app, tenant


@pytest.fixture
async def api(amocrm_app: tuple[FastAPI, Tenant]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=amocrm_app[0])
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://junction.test",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as client:
        yield client


async def _connections(session: AsyncSession) -> list[Connection]:
    with cross_tenant(session, "test: every connection"):
        return list((await session.scalars(select(Connection))).all())


async def test_the_whole_flow_connects_the_account(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    callback = await consent(api, sandbox, account_id, "allow")
    assert set(callback) == {"code", "state", "referer", "client_id"}
    response = await api.get("/connections/amocrm/callback", params=callback)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["account_ref"] == str(account_id)
    assert body["status"] == "healthy"
    assert body["details"]["account_name"] == "Test account"
    assert "token" not in response.text
    [connection] = await _connections(session)
    secrets = secretbox.decrypt_json(connection.secrets_encrypted)
    assert set(secrets) == {"access_token", "refresh_token"}
    listed = (await api.get("/api/connections")).json()
    assert [item["id"] for item in listed] == [body["id"]]
    with cross_tenant(session, "test: audit"):
        [entry] = (await session.scalars(select(AuditEntry))).all()
        admin = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == hash_api_key(ADMIN_KEY))
        )
    assert entry.action == "connection.created"
    # The key that started connecting is named, though the callback came from a browser.
    assert admin is not None
    assert entry.actor_id == str(admin.id)


async def test_a_replayed_state_is_refused(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    callback = await consent(api, sandbox, account_id, "allow")
    assert (await api.get("/connections/amocrm/callback", params=callback)).status_code == 201
    replay = await api.get("/connections/amocrm/callback", params=callback)
    assert replay.status_code == 400
    assert replay.json()["error"] == {
        "code": "invalid_state",
        "field": "state",
        "message": "the sign-in link was already used; start connecting again",
    }


async def test_a_forged_state_is_refused(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int
) -> None:
    callback = await consent(api, sandbox, account_id, "allow")
    payload, _, _ = callback["state"].partition(".")
    forged = await api.get(
        "/connections/amocrm/callback", params={**callback, "state": payload + ".AAAA"}
    )
    assert (
        forged.json()["error"]["message"]
        == "the sign-in link is not one Junction issued; start connecting again"
    )


async def test_a_denied_consent_leaves_nothing_behind(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    callback = await consent(api, sandbox, account_id, "deny")
    assert callback["error"] == "access_denied"
    response = await api.get("/connections/amocrm/callback", params=callback)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "amoCRM access was not granted (access_denied); nothing was connected"
    )
    assert await _connections(session) == []


async def test_a_forged_referer_never_receives_the_secret(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    callback = await consent(api, sandbox, account_id, "allow")
    response = await api.get(
        "/connections/amocrm/callback", params={**callback, "referer": "evil.example.com"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "'evil.example.com' is not an amoCRM account domain; nothing was sent to it"
    )
    assert await _connections(session) == []


async def test_a_bad_code_is_explained(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    callback = await consent(api, sandbox, account_id, "allow")
    response = await api.get(
        "/connections/amocrm/callback", params={**callback, "code": "code_wrong"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "amoCRM refused the authorization code (Authorization code has been revoked); connect again"
    )
    assert await _connections(session) == []


async def test_connecting_the_same_account_again_replaces_the_tokens(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    first = await api.get(
        "/connections/amocrm/callback", params=await consent(api, sandbox, account_id, "allow")
    )
    second = await api.get(
        "/connections/amocrm/callback", params=await consent(api, sandbox, account_id, "allow")
    )
    assert first.json()["id"] == second.json()["id"]
    [connection] = await _connections(session)
    assert connection.token_version == 1


async def test_the_disconnect_callback_revokes_the_connection(
    api: httpx.AsyncClient, sandbox: httpx.Client, account_id: int, session: AsyncSession
) -> None:
    await api.get(
        "/connections/amocrm/callback", params=await consent(api, sandbox, account_id, "allow")
    )
    integration = sandbox.get("/_sandbox/integration").json()
    message = f"{integration['client_id']}|{account_id}".encode()
    signature = hmac.new(integration["client_secret"].encode(), message, hashlib.sha256).hexdigest()
    params: dict[str, Any] = {"client_uuid": integration["client_id"], "account_id": account_id}
    bad = await api.get("/connections/amocrm/disconnect", params={**params, "signature": "0" * 64})
    assert bad.status_code == 401
    good = await api.get(
        "/connections/amocrm/disconnect", params={**params, "signature": signature}
    )
    assert good.json() == {"revoked": 1}
    [connection] = await _connections(session)
    assert connection.status.value == "revoked"


async def test_a_long_lived_token_can_be_pasted(
    api: httpx.AsyncClient, sandbox: httpx.Client, sandbox_url: str, account_id: int
) -> None:
    token = sandbox.post(f"/_sandbox/accounts/{account_id}/long-lived-token", json={}).json()[
        "access_token"
    ]
    domain = sandbox_url.split("://", 1)[1]
    viewer = await api.post(
        "/api/connections/amocrm/credentials",
        json={"domain": domain, "access_token": token},
        headers={"Authorization": f"Bearer {VIEWER_KEY}"},
    )
    assert viewer.status_code == 403
    pasted = await api.post(
        "/api/connections/amocrm/credentials", json={"domain": domain, "access_token": token}
    )
    assert pasted.status_code == 201, pasted.text
    assert pasted.json()["account_ref"] == str(account_id)
    # amoCRM's long-lived tokens are JWTs: their `exp` becomes the connection's expiry.
    assert pasted.json()["expires_at"] is not None
    dead = await api.post(
        "/api/connections/amocrm/credentials", json={"domain": domain, "access_token": "dead"}
    )
    assert (
        dead.json()["error"]["message"]
        == "amoCRM did not let the token read the account (HTTP 401)"
    )
    incomplete = await api.post("/api/connections/amocrm/credentials", json={"domain": domain})
    assert incomplete.json()["error"]["message"].startswith("send either a long-lived token")


async def test_a_private_integration_connects_with_its_own_credentials(
    api: httpx.AsyncClient,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
    session: AsyncSession,
) -> None:
    private = {
        "client_id": "private-id",
        "client_secret": "private-secret",
        "redirect_uri": "https://shop.example/cb",
    }
    sandbox.post("/_sandbox/integrations", json=private)
    code = sandbox.post(
        f"/_sandbox/accounts/{account_id}/codes", json={"client_id": "private-id"}
    ).json()["code"]
    response = await api.post(
        "/api/connections/amocrm/credentials",
        json={"domain": sandbox_url.split("://", 1)[1], "code": code, **private},
    )
    assert response.status_code == 201, response.text
    [connection] = await _connections(session)
    secrets = secretbox.decrypt_json(connection.secrets_encrypted)
    assert secrets["client_id"] == "private-id"
    assert "private-secret" not in response.text


async def test_a_connection_started_in_a_browser_is_finished_in_that_browser(
    amocrm_app: tuple[FastAPI, Tenant],
    sandbox: httpx.Client,
    account_id: int,
    session: AsyncSession,
) -> None:
    app, tenant = amocrm_app
    async with (
        await sign_in(app, session, tenant, Role.admin) as admin,
        await sign_in(app, session, tenant, Role.admin) as other,
    ):
        callback = await consent(admin.client, sandbox, account_id, "allow", admin.headers)
        # The consent link went elsewhere: another log-in, even of the same workspace.
        elsewhere = await other.client.get("/connections/amocrm/callback", params=callback)
        assert elsewhere.status_code == 400
        assert elsewhere.json()["error"]["code"] == "invalid_state"
        callback = await consent(admin.client, sandbox, account_id, "allow", admin.headers)
        finished = await admin.client.get("/connections/amocrm/callback", params=callback)
        assert finished.status_code == 201, finished.text
        me = (await admin.client.get("/api/auth/me")).json()
    with cross_tenant(session, "test: audit"):
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert (entry.actor_type.value, entry.actor_id) == ("user", me["user"]["id"])
