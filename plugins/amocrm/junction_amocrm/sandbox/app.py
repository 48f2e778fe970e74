"""The sandbox's HTTP application: OAuth, API v4, limits, and an inspection API.

`create_app()` serves one `SandboxState`. State lives in memory and is lost on exit.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from junction_amocrm.sandbox import entities
from junction_amocrm.sandbox.problems import (
    FORBIDDEN_HTML,
    TOO_MANY_HTML,
    Refusal,
    html,
    oauth_problem,
    problem,
)
from junction_amocrm.sandbox.state import Account, SandboxState


@dataclass
class SandboxOptions:
    auto_approve: bool = False
    rate_limit: int = 7
    # 429 bodies: amoCRM users report nginx HTML pages with no Retry-After header.
    html_429: bool = False
    # Repeated excess blocks the account with 403 for a while.
    block_after_excess: int = 50
    block_seconds: float = 30.0
    # Writes of more entities than this time out at the gateway (504); 0: never.
    gateway_timeout_above: int = 0
    # Seconds a lead write waits before answering, after it is done: a caller can die
    # between amoCRM making the change and hearing of it.
    lead_write_answer_delay: float = 0.0


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def create_app(state: SandboxState | None = None, options: SandboxOptions | None = None) -> FastAPI:
    state = state or SandboxState()
    options = options or SandboxOptions()
    app = FastAPI(
        title="amoCRM sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json"
    )
    app.state.sandbox = state
    app.state.options = options

    # ---- OAuth -----------------------------------------------------------------------

    @app.get("/oauth")
    async def consent(request: Request) -> Response:
        params = dict(request.query_params)
        client_id = params.get("client_id", "")
        integration = state.integrations.get(client_id)
        if integration is None:
            return HTMLResponse("<h1>Unknown integration</h1>", status_code=400)
        oauth_state = params.get("state", "")
        account_id = int(params.get("account_id", state.demo_account.id))
        if options.auto_approve:
            return _approve(integration.redirect_uri, oauth_state, account_id, client_id)
        page = f"""<html><body><h1>Allow access to {state.accounts[account_id].name}?</h1>
<form method="post" action="/oauth/decision">
<input type="hidden" name="client_id" value="{client_id}">
<input type="hidden" name="state" value="{oauth_state}">
<input type="hidden" name="account_id" value="{account_id}">
<button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button>
</form></body></html>"""
        return HTMLResponse(page)

    def _approve(
        redirect_uri: str, oauth_state: str, account_id: int, client_id: str
    ) -> RedirectResponse:
        code = state.issue_code(account_id, client_id)
        query = urlencode(
            {"code": code, "state": oauth_state, "referer": state.host, "client_id": client_id}
        )
        return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)

    @app.post("/oauth/decision")
    async def decide(
        client_id: str = Form(),
        state_value: str = Form(alias="state"),
        account_id: int = Form(),
        decision: str = Form(),
    ) -> Response:
        integration = state.integrations[client_id]
        if decision != "allow":
            query = urlencode(
                {"error": "access_denied", "state": state_value, "client_id": client_id}
            )
            return RedirectResponse(f"{integration.redirect_uri}?{query}", status_code=302)
        return _approve(integration.redirect_uri, state_value, account_id, client_id)

    @app.post("/oauth2/access_token")
    async def access_token(request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            body: dict[str, Any] = await request.json()
        else:
            body = dict(await request.form())
        integration = state.integrations.get(str(body.get("client_id", "")))
        if integration is None or integration.client_secret != body.get("client_secret"):
            return oauth_problem(
                401, "Client authentication failed", "Client authentication failed"
            )
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            grant = state.codes.pop(str(body.get("code", "")), None)
            if (
                grant is None
                or grant.expires_at < state.now(grant.account_id)
                or grant.client_id != integration.client_id
            ):
                return oauth_problem(
                    400, "Authorization code has been revoked", "Authorization code is invalid"
                )
            if body.get("redirect_uri") != integration.redirect_uri:
                return oauth_problem(400, "Redirect URI mismatch", "Redirect URI does not match")
            return JSONResponse(state.issue_tokens(grant.account_id, integration.client_id))
        if grant_type == "refresh_token":
            refresh = state.refresh_tokens.get(str(body.get("refresh_token", "")))
            if (
                refresh is None
                or refresh.spent
                or refresh.client_id != integration.client_id
                or refresh.expires_at < state.now(refresh.account_id)
            ):
                return oauth_problem(401, "Token has been revoked", "Refresh token is invalid")
            moved_to = state.accounts[refresh.account_id].host
            if moved_to is not None and request.headers.get("host") != moved_to:
                # A renamed account no longer answers on its old domain.
                return oauth_problem(401, "Account not found on this domain", "Unauthorized")
            refresh.spent = True
            state.refreshes += 1
            return JSONResponse(state.issue_tokens(refresh.account_id, integration.client_id))
        return oauth_problem(
            400, "Unsupported grant type", f"grant_type {grant_type!r} is not supported"
        )

    @app.get("/oauth2/account/current/subdomain")
    async def current_subdomain(request: Request) -> Response:
        refresh = state.refresh_tokens.get(request.headers.get("x-refresh-token", ""))
        if refresh is None or refresh.spent:
            return oauth_problem(401, "Token has been revoked", "Refresh token is invalid")
        account = state.accounts[refresh.account_id]
        domain = account.host or state.host
        return JSONResponse(
            {
                "id": account.id,
                "subdomain": account.subdomain,
                "domain": domain,
                "top_level_domain": domain.rsplit(".", 1)[-1],
            }
        )

    # ---- API v4: authentication and limits --------------------------------------------

    def authenticate(request: Request) -> Account:
        """The request's account; raises `Refusal` with amoCRM's answer otherwise."""
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        grant = state.access_tokens.get(token) or state.long_lived.get(token)
        if grant is None or grant.expires_at < state.now(grant.account_id):
            raise Refusal(problem(401, "Unauthorized", "Unauthorized"))
        account = state.accounts[grant.account_id]
        now = time.monotonic()
        if now < account.blocked_until:
            raise Refusal(html(403, FORBIDDEN_HTML))
        while account.accepted and account.accepted[0] <= now - 1.0:
            account.accepted.popleft()
        if len(account.accepted) >= options.rate_limit:
            account.rejected_429 += 1
            account.excess_times.append(now)
            while account.excess_times and account.excess_times[0] <= now - 60:
                account.excess_times.popleft()
            if len(account.excess_times) >= options.block_after_excess:
                account.blocked_until = now + options.block_seconds
            if options.html_429:
                raise Refusal(html(429, TOO_MANY_HTML))
            raise Refusal(problem(429, "Too Many Requests", "Too Many Requests", retry_after=1))
        account.accepted.append(now)
        account.all_accepted.append(now)
        if not account.paid:
            raise Refusal(problem(402, "Payment Required", "The account's paid period has ended"))
        return account

    app.state.authenticate = authenticate

    @app.middleware("http")
    async def slow_lead_answers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if (
            options.lead_write_answer_delay
            and request.method in ("POST", "PATCH")
            and request.url.path == "/api/v4/leads"
        ):
            await asyncio.sleep(options.lead_write_answer_delay)
        return response

    @app.exception_handler(Refusal)
    async def refused(_request: Request, exc: Refusal) -> Response:
        return exc.response

    entities.install(app, state)

    # ---- inspection API ---------------------------------------------------------------

    @app.get("/_sandbox/integration")
    async def demo_integration() -> dict[str, Any]:
        integration = state.demo_integration
        return {
            "client_id": integration.client_id,
            "client_secret": integration.client_secret,
            "redirect_uri": integration.redirect_uri,
            "account_id": state.demo_account.id,
            "host": state.host,
        }

    @app.post("/_sandbox/integrations")
    async def add_integration(body: dict[str, str]) -> dict[str, str]:
        integration = state.add_integration(
            body["client_id"], body["client_secret"], body["redirect_uri"]
        )
        return {"client_id": integration.client_id}

    @app.post("/_sandbox/accounts")
    async def add_account(body: dict[str, str]) -> dict[str, Any]:
        account = state.add_account(body.get("subdomain", "account"), body.get("name", "Account"))
        return {"id": account.id}

    @app.get("/_sandbox/accounts/{account_id}")
    async def account_state(account_id: int) -> dict[str, Any]:
        account = state.accounts[account_id]
        return {
            "id": account.id,
            "name": account.name,
            "paid": account.paid,
            "users": account.users,
            "pipelines": account.pipelines,
            "lead_fields": account.lead_fields,
            "contact_fields": account.contact_fields,
            "catalogs": account.catalogs,
            "contacts": list(account.contacts.values()),
            "leads": list(account.leads.values()),
            "notes": list(account.notes.values()),
            "elements": list(account.elements.values()),
            "links": account.links,
        }

    @app.patch("/_sandbox/accounts/{account_id}")
    async def change_account(account_id: int, body: dict[str, Any]) -> dict[str, Any]:
        account = state.accounts[account_id]
        if "paid" in body:
            account.paid = bool(body["paid"])
        if "access_token_seconds" in body:
            # Access tokens issued from now on (refreshes included) live this long.
            account.access_token_seconds = float(body["access_token_seconds"])
        if "host" in body:
            # Renaming: the account's OAuth answers only on the new host from now on.
            account.host = body["host"]
            account.subdomain = body.get("subdomain", account.subdomain)
        return {"id": account.id, "paid": account.paid, "host": account.host}

    @app.post("/_sandbox/accounts/{account_id}/contacts")
    async def seed_contact(account_id: int, body: dict[str, Any]) -> dict[str, Any]:
        contact = entities.new_contact(state, state.accounts[account_id], body)
        return contact

    @app.delete("/_sandbox/accounts/{account_id}/catalogs/{catalog_id}")
    async def delete_catalog(account_id: int, catalog_id: int) -> dict[str, int]:
        """A catalog someone deleted in amoCRM, with its elements."""
        account = state.accounts[account_id]
        account.catalogs = [c for c in account.catalogs if c["id"] != catalog_id]
        gone = [i for i, e in account.elements.items() if e["catalog_id"] == catalog_id]
        for element_id in gone:
            del account.elements[element_id]
        return {"deleted_elements": len(gone)}

    @app.post("/_sandbox/accounts/{account_id}/clock")
    async def move_clock(account_id: int, body: dict[str, Any]) -> dict[str, float]:
        """Move the account's clock forward: its tokens age as if that time had passed."""
        account = state.accounts[account_id]
        account.clock_offset += float(body.get("advance_seconds", 0))
        return {"now": state.now(account_id), "offset": account.clock_offset}

    @app.post("/_sandbox/tokens/revoke")
    async def revoke_token(body: dict[str, str]) -> dict[str, bool]:
        """A token revoked in amoCRM (the integration's keys reset, a user's action)."""
        token = body.get("token", "")
        found = bool(state.access_tokens.pop(token, None) or state.long_lived.pop(token, None))
        refresh = state.refresh_tokens.get(token)
        if refresh is not None:
            refresh.spent = True
            found = True
        return {"revoked": found}

    @app.post("/_sandbox/accounts/{account_id}/expire-access-tokens")
    async def expire_tokens(account_id: int) -> dict[str, int]:
        expired = 0
        for grant in state.access_tokens.values():
            if grant.account_id == account_id:
                grant.expires_at = 0
                expired += 1
        return {"expired": expired}

    @app.post("/_sandbox/accounts/{account_id}/tokens")
    async def issue_tokens(account_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Tokens as if the account had just connected (for tests and the demo)."""
        client_id = body.get("client_id", state.demo_integration.client_id)
        lifetime = body.get("expires_in")
        return state.issue_tokens(
            account_id, client_id, None if lifetime is None else float(lifetime)
        )

    @app.post("/_sandbox/accounts/{account_id}/codes")
    async def issue_code(account_id: int, body: dict[str, Any]) -> dict[str, str]:
        """An authorization code, as a private integration's settings page shows one."""
        return {"code": state.issue_code(account_id, body["client_id"])}

    @app.post("/_sandbox/accounts/{account_id}/long-lived-token")
    async def long_lived(account_id: int, body: dict[str, Any]) -> dict[str, str]:
        return {
            "access_token": state.issue_long_lived(
                account_id, float(body.get("seconds", 86400 * 365))
            )
        }

    @app.patch("/_sandbox/options")
    async def change_options(body: dict[str, Any]) -> dict[str, Any]:
        for key, value in body.items():
            if not hasattr(options, key):
                return {"error": f"unknown option {key!r}"}
            setattr(options, key, type(getattr(options, key))(value))
        return vars(options)

    @app.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        return {
            "refreshes": state.refreshes,
            "accounts": {
                str(account.id): {
                    "accepted": len(account.all_accepted),
                    "rejected_429": account.rejected_429,
                    "max_per_second": _max_in_window(account.all_accepted),
                    "blocked": time.monotonic() < account.blocked_until,
                }
                for account in state.accounts.values()
            },
        }

    @app.post("/_sandbox/stats/reset")
    async def reset_stats() -> dict[str, str]:
        state.refreshes = 0
        for account in state.accounts.values():
            account.all_accepted.clear()
            account.rejected_429 = 0
        return {"status": "reset"}

    return app
