"""Account flows end to end, with the email captured by a local SMTP server."""

from __future__ import annotations

import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.accounts.capture import MailCapture
from junction.app import create_app
from junction.db.tenancy import cross_tenant
from junction.plugins.registry import PluginRegistry
from junction.runtime import open_runtime
from junction.settings import Settings, SettingsError
from junction.tenancy.models import Membership, Role, User
from tests.support.mail import link_token, mail_to

PASSWORD = "correct horse battery"


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://junction.test"
    )


async def _sign_up(
    client: httpx.AsyncClient, mail: MailCapture, email: str, workspace: str = "Acme Shop"
) -> None:
    answer = await client.post(
        "/api/auth/signup", json={"email": email, "password": PASSWORD, "workspace": workspace}
    )
    assert answer.status_code == 202, answer.text
    token = link_token(mail_to(mail, email, "confirm your email"))
    assert (await client.post("/api/auth/verify-email", json={"token": token})).status_code == 200


async def _log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    answer = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    csrf: str = answer.json()["csrf_token"]
    return csrf


@pytest.mark.slice
async def test_sign_up_verify_log_in_and_out(
    app: FastAPI, mail_capture: MailCapture, session: AsyncSession
) -> None:
    email = _email()
    async with _client(app) as client:
        answer = await client.post(
            "/api/auth/signup",
            json={"email": email.upper(), "password": PASSWORD, "workspace": "Acme Shop"},
        )
        assert answer.status_code == 202
        # Not before the address is confirmed.
        early = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert early.status_code == 403
        assert early.json()["error"]["code"] == "email_not_verified"

        token = link_token(mail_to(mail_capture, email, "confirm your email"))
        verified = await client.post("/api/auth/verify-email", json={"token": token})
        assert verified.json() == {"email": email}
        # A link works once.
        again = await client.post("/api/auth/verify-email", json={"token": token})
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_link"

        logged_in = await client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert logged_in.status_code == 200
        cookie = logged_in.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookie if c.startswith("junction_session="))
        assert "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
        assert "Secure" not in session_cookie  # served on 127.0.0.1
        account = logged_in.json()
        assert account["user"]["email"] == email
        assert account["role"] == "owner"
        assert [w["name"] for w in account["workspaces"]] == ["Acme Shop"]
        assert account["workspace"].startswith("acme-shop")
        assert account["workspace_name"] == "Acme Shop"

        me = await client.get("/api/auth/me")
        assert me.status_code == 200
        # The workspace's own routes take the session as its caller.
        assert (await client.get("/api/events")).status_code == 200

        out = await client.post("/api/auth/logout", headers={"X-CSRF-Token": account["csrf_token"]})
        assert out.status_code == 204
        assert (await client.get("/api/auth/me")).status_code == 401

    with cross_tenant(session, "test: the account's rows"):
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        role = await session.scalar(select(Membership.role).where(Membership.user_id == user.id))
        assert role is Role.owner


async def test_wrong_passwords_and_weak_ones_are_refused_clearly(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as client:
        weak = await client.post(
            "/api/auth/signup", json={"email": email, "password": "short", "workspace": "W"}
        )
        assert weak.status_code == 422
        assert weak.json()["error"] == {
            "code": "weak_password",
            "message": "the password must have at least 10 characters",
            "field": "password",
        }
        await _sign_up(client, mail_capture, email)
        wrong = await client.post(
            "/api/auth/login", json={"email": email, "password": "not the password"}
        )
        assert wrong.status_code == 401
        nobody = await client.post(
            "/api/auth/login", json={"email": _email(), "password": "not the password"}
        )
        # The same answer for an unknown address: nothing tells who has an account.
        assert nobody.json() == wrong.json()


async def test_signing_up_again_creates_nothing_and_tells_the_owner(
    app: FastAPI, mail_capture: MailCapture, session: AsyncSession
) -> None:
    email = _email()
    async with _client(app) as client:
        await _sign_up(client, mail_capture, email)
        answer = await client.post(
            "/api/auth/signup", json={"email": email, "password": PASSWORD, "workspace": "Other"}
        )
        assert answer.status_code == 202
    assert "already has an account" in mail_to(mail_capture, email, "your junction account").body
    with cross_tenant(session, "test: count accounts"):
        count = await session.scalar(select(func.count()).where(User.email == email))
        assert count == 1


async def test_changes_from_a_browser_need_the_csrf_token(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as client:
        await _sign_up(client, mail_capture, email)
        csrf = await _log_in(client, email)
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            refused = await client.post("/api/auth/logout", headers=headers)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "csrf_failed"
            # Tenant routes too.
            replay = await client.post("/api/events/replay", json={}, headers=headers)
            assert replay.status_code == 403
        assert (await client.get("/api/auth/me")).status_code == 200
        assert (
            await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
        ).status_code == 204


async def test_log_out_everywhere_ends_every_session(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as laptop, _client(app) as phone:
        await _sign_up(laptop, mail_capture, email)
        csrf = await _log_in(laptop, email)
        await _log_in(phone, email)
        assert (await phone.get("/api/auth/me")).status_code == 200
        ended = await laptop.post("/api/auth/logout-everywhere", headers={"X-CSRF-Token": csrf})
        assert ended.status_code == 204
        assert (await phone.get("/api/auth/me")).status_code == 401
        assert (await laptop.get("/api/auth/me")).status_code == 401


async def test_password_reset_by_email_ends_old_sessions(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as client, _client(app) as stranger:
        await _sign_up(client, mail_capture, email)
        await _log_in(client, email)
        asked = await stranger.post("/api/auth/password-reset", json={"email": email})
        assert asked.status_code == 202
        # An unknown address gets the same answer.
        unknown = await stranger.post("/api/auth/password-reset", json={"email": _email()})
        assert (unknown.status_code, unknown.json()) == (202, asked.json())

        token = link_token(mail_to(mail_capture, email, "reset your junction password"))
        new_password = "another long passphrase"
        done = await stranger.post(
            "/api/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert done.status_code == 200
        assert (await client.get("/api/auth/me")).status_code == 401
        reused = await stranger.post(
            "/api/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert reused.status_code == 400
        old = await stranger.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
        await _log_in(stranger, email, new_password)


async def test_change_of_email_is_confirmed_from_the_new_address(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email, new_email = _email(), _email()
    async with _client(app) as client:
        await _sign_up(client, mail_capture, email)
        csrf = await _log_in(client, email)
        wrong = await client.post(
            "/api/auth/email-change",
            json={"password": "not the password", "new_email": new_email},
            headers={"X-CSRF-Token": csrf},
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["field"] == "password"
        same = await client.post(
            "/api/auth/email-change",
            json={"password": PASSWORD, "new_email": email.upper()},
            headers={"X-CSRF-Token": csrf},
        )
        assert same.status_code == 400
        assert same.json()["error"]["field"] == "new_email"
        asked = await client.post(
            "/api/auth/email-change",
            json={"password": PASSWORD, "new_email": new_email},
            headers={"X-CSRF-Token": csrf},
        )
        assert asked.status_code == 202
        assert new_email in mail_to(mail_capture, email, "being changed").body
        token = link_token(mail_to(mail_capture, new_email, "confirm your new email"))
        confirmed = await client.post("/api/auth/email-change/confirm", json={"token": token})
        assert confirmed.json() == {"email": new_email}
        await _log_in(client, new_email)
        old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401


async def test_log_in_attempts_are_rate_limited_per_account(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as client:
        await _sign_up(client, mail_capture, email)
        for _ in range(10):
            answer = await client.post(
                "/api/auth/login", json={"email": email, "password": "not the password"}
            )
            assert answer.status_code == 401
        limited = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 0 < int(limited.headers["Retry-After"]) <= 900
        # Another account from the same address is not locked out by it.
        other = _email()
        await _sign_up(client, mail_capture, other)
        await _log_in(client, other)


async def test_a_viewer_reads_but_cannot_change_the_set_up(
    app: FastAPI, mail_capture: MailCapture, session: AsyncSession
) -> None:
    email = _email()
    async with _client(app) as client:
        await _sign_up(client, mail_capture, email)
        with cross_tenant(session, "test: demote the owner"):
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            membership = await session.scalar(
                select(Membership).where(Membership.user_id == user.id)
            )
            assert membership is not None
            membership.role = Role.viewer
            await session.commit()
        csrf = await _log_in(client, email)
        assert (await client.get("/api/events")).status_code == 200
        refused = await client.post("/api/events/replay", json={}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"


async def test_sign_ups_and_resets_are_rate_limited_too(
    app: FastAPI, mail_capture: MailCapture
) -> None:
    email = _email()
    async with _client(app) as client:
        for _ in range(5):
            answer = await client.post("/api/auth/password-reset", json={"email": email})
            assert answer.status_code == 202
        limited = await client.post("/api/auth/password-reset", json={"email": email})
        assert limited.status_code == 429
        assert "try again in" in limited.json()["error"]["message"]
        assert int(limited.headers["Retry-After"]) > 0

        other = _email()
        body = {"email": other, "password": PASSWORD, "workspace": "W"}
        for _ in range(5):
            assert (await client.post("/api/auth/signup", json=body)).status_code == 202
        assert (await client.post("/api/auth/signup", json=body)).status_code == 429


async def test_a_new_workspace_gets_the_starter_plugins_unconfigured(
    settings: Settings,
    registry: PluginRegistry,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_capture: MailCapture,
    session: AsyncSession,
) -> None:
    """JUNCTION_NEW_WORKSPACE_PLUGINS: what each sign-up's workspace has installed."""
    starter = settings.model_copy(update={"new_workspace_plugins": ["order_to_lead"]})
    app = create_app(starter, registry=registry, sessionmaker=sessionmaker)
    email = _email()
    async with LifespanManager(app), _client(app) as client:
        await _sign_up(client, mail_capture, email, "Starter shop")
        await _log_in(client, email)
        [installed] = (await client.get("/api/installations")).json()
        assert (installed["plugin"], installed["config"]) == ("order_to_lead", {})
        form = (await client.get(f"/api/installations/{installed['id']}/form")).json()
        assert "amocrm" in form["choices_problem"].lower()
        audit = (await client.get("/api/audit")).json()
        assert {(e["action"], e["actor_type"]) for e in audit} >= {
            ("installation.installed", "system")
        }

    unknown = settings.model_copy(update={"new_workspace_plugins": ["order_to_lead", "bitrix"]})
    with pytest.raises(SettingsError, match="JUNCTION_NEW_WORKSPACE_PLUGINS: no plugin 'bitrix'"):
        await open_runtime(unknown, registry=registry, sessionmaker=sessionmaker)
