"""Members, roles and invitations: the workspace always keeps an owner."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.capture import MailCapture
from junction.audit.models import AuditEntry
from junction.db.tenancy import scope_to_tenant
from junction.tenancy.models import Role
from tests.factories import TenantFactory
from tests.support.accounts import PASSWORD, sign_in
from tests.support.mail import link_token, mail_to


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://junction.test"
    )


async def _me(client: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    answer = await client.get("/api/auth/me")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def test_an_invitation_by_email_makes_a_member(
    app: FastAPI, session: AsyncSession, mail_capture: MailCapture
) -> None:
    tenant = TenantFactory(name="Partner Shop")
    owner = await sign_in(app, session, tenant, Role.owner)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    async with owner, _client(app) as invited:
        sent = await owner.client.post(
            "/api/members/invitations",
            json={"email": email, "role": "admin"},
            headers=owner.headers,
        )
        assert sent.status_code == 202, sent.text
        invitation = link_token(mail_to(mail_capture, email, "you are invited"))

        # The invited person signs up with that address, confirms it and accepts.
        await invited.post(
            "/api/auth/signup", json={"email": email, "password": PASSWORD, "workspace": "Own"}
        )
        verify = link_token(mail_to(mail_capture, email, "confirm your email"))
        await invited.post("/api/auth/verify-email", json={"token": verify})
        login = await invited.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        accepted = await invited.post(
            "/api/invitations/accept", json={"token": invitation}, headers=csrf
        )
        assert accepted.json() == {"workspace": tenant.slug, "role": "admin"}
        me = await _me(invited)
        assert me["workspace"] == tenant.slug
        assert me["role"] == "admin"
        assert {w["name"] for w in me["workspaces"]} == {"Own", "Partner Shop"}
        again = await invited.post(
            "/api/invitations/accept", json={"token": invitation}, headers=csrf
        )
        assert again.status_code == 400

        members = (await owner.client.get("/api/members")).json()
        assert sorted(m["role"] for m in members) == ["admin", "owner"]

    scope_to_tenant(session, tenant.id)
    actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert {"member.invited", "member.joined"} <= actions


async def test_an_invitation_is_for_the_address_it_was_sent_to(
    app: FastAPI, session: AsyncSession, mail_capture: MailCapture
) -> None:
    tenant, elsewhere = TenantFactory(), TenantFactory()
    owner = await sign_in(app, session, tenant, Role.owner)
    stranger = await sign_in(app, session, elsewhere, Role.owner)
    email = f"meant-{uuid.uuid4().hex[:8]}@example.com"
    async with owner, stranger:
        await owner.client.post(
            "/api/members/invitations", json={"email": email}, headers=owner.headers
        )
        token = link_token(mail_to(mail_capture, email, "you are invited"))
        taken = await stranger.client.post(
            "/api/invitations/accept", json={"token": token}, headers=stranger.headers
        )
        assert taken.status_code == 403
        assert (await _me(stranger.client))["workspace"] == elsewhere.slug


async def test_the_last_owner_stays(app: FastAPI, session: AsyncSession) -> None:
    tenant = TenantFactory()
    owner = await sign_in(app, session, tenant, Role.owner)
    async with owner:
        me = await _me(owner.client)
        mine = me["user"]["id"]
        demoted = await owner.client.put(
            f"/api/members/{mine}", json={"role": "admin"}, headers=owner.headers
        )
        assert demoted.status_code == 409
        assert demoted.json()["error"]["code"] == "last_owner"
        left = await owner.client.delete(f"/api/members/{mine}", headers=owner.headers)
        assert left.status_code == 409

        second = await sign_in(app, session, tenant, Role.admin)
        async with second:
            theirs = (await _me(second.client))["user"]["id"]
            promoted = await owner.client.put(
                f"/api/members/{theirs}", json={"role": "owner"}, headers=owner.headers
            )
            assert promoted.json() == {"role": "owner"}
        left = await owner.client.delete(f"/api/members/{mine}", headers=owner.headers)
        assert left.status_code == 204
        # Out of the workspace: its routes are closed to this session now.
        assert (await owner.client.get("/api/events")).status_code == 403


async def test_roles_limit_who_manages_whom(app: FastAPI, session: AsyncSession) -> None:
    tenant = TenantFactory()
    owner = await sign_in(app, session, tenant, Role.owner)
    admin = await sign_in(app, session, tenant, Role.admin)
    viewer = await sign_in(app, session, tenant, Role.viewer)
    async with owner, admin, viewer:
        owner_id = (await _me(owner.client))["user"]["id"]
        viewer_id = (await _me(viewer.client))["user"]["id"]
        for body in ({"email": "x@example.com", "role": "owner"},):
            refused = await admin.client.post(
                "/api/members/invitations", json=body, headers=admin.headers
            )
            assert refused.status_code == 403
        touched = await admin.client.put(
            f"/api/members/{owner_id}", json={"role": "viewer"}, headers=admin.headers
        )
        assert touched.status_code == 403
        by_viewer = await viewer.client.post(
            "/api/members/invitations",
            json={"email": "y@example.com", "role": "viewer"},
            headers=viewer.headers,
        )
        assert by_viewer.status_code == 403
        removed = await viewer.client.delete(f"/api/members/{owner_id}", headers=viewer.headers)
        assert removed.status_code == 403
        # Admins manage viewers; anyone may leave.
        raised = await admin.client.put(
            f"/api/members/{viewer_id}", json={"role": "admin"}, headers=admin.headers
        )
        assert raised.json() == {"role": "admin"}
        assert (await viewer.client.get("/api/members")).status_code == 200
        left = await viewer.client.delete(f"/api/members/{viewer_id}", headers=viewer.headers)
        assert left.status_code == 204


async def test_keys_for_programs_are_shown_once_and_revoked(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    async with await sign_in(app, session, tenant, Role.admin) as admin:
        made = await admin.client.post(
            "/api/api-keys", json={"name": "shop sync", "role": "viewer"}, headers=admin.headers
        )
        assert made.status_code == 201
        key = made.json()["key"]
        assert key.startswith("jk_")
        listed = (await admin.client.get("/api/api-keys")).json()
        assert [k["name"] for k in listed] == ["shop sync"]
        assert key not in str(listed)
        owner_key = await admin.client.post(
            "/api/api-keys", json={"name": "all", "role": "owner"}, headers=admin.headers
        )
        assert owner_key.status_code == 403
        async with _client(app) as program:
            headers = {"Authorization": f"Bearer {key}"}
            assert (await program.get("/api/events", headers=headers)).status_code == 200
            revoked = await admin.client.delete(
                f"/api/api-keys/{made.json()['id']}", headers=admin.headers
            )
            assert revoked.status_code == 204
            assert (await program.get("/api/events", headers=headers)).status_code == 401


async def test_the_audit_log_names_who_made_each_change(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    async with await sign_in(app, session, tenant) as owner:
        me = (await owner.client.get("/api/auth/me")).json()["user"]["email"]
        made = await owner.client.post(
            "/api/api-keys", json={"name": "shop sync", "role": "admin"}, headers=owner.headers
        )
        async with _client(app) as program:
            by_key = await program.post(
                "/api/api-keys",
                json={"name": "nightly", "role": "viewer"},
                headers={"Authorization": f"Bearer {made.json()['key']}"},
            )
            assert by_key.status_code == 201
        log = (await owner.client.get("/api/audit")).json()
    assert [(e["action"], e["actor_type"], e["actor"]) for e in log] == [
        ("api_key.created", "api_key", "shop sync"),
        ("api_key.created", "user", me),
    ]
