"""`/api/auth/…`: accounts and browser sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, EmailStr, Field
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts import service
from junction.accounts.passwords import MAX_LENGTH
from junction.accounts.ratelimit import RateLimited
from junction.accounts.sessions import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    end_session,
    end_sessions,
    open_session,
)
from junction.api.deps import Browser, BrowserDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.db.base import utcnow
from junction.runtime import Runtime
from junction.tenancy.models import User

router = APIRouter(prefix="/api/auth", tags=["accounts"])

Password = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
Token = Annotated[str, Field(min_length=1, max_length=200)]


class SignUp(BaseModel):
    email: EmailStr
    password: Password
    workspace: Annotated[str, Field(min_length=1, max_length=200)]


class LogIn(BaseModel):
    email: EmailStr
    password: Password
    workspace: str | None = Field(default=None, description="The slug of the workspace to open.")


class EmailOnly(BaseModel):
    email: EmailStr


class TokenOnly(BaseModel):
    token: Token


class NewPassword(BaseModel):
    token: Token
    password: Password


class EmailChange(BaseModel):
    password: Password
    new_email: EmailStr


class Switch(BaseModel):
    workspace: Annotated[str, Field(min_length=1, max_length=63)]


def _links(runtime: Runtime) -> service.Links:
    return service.Links(str(runtime.settings.public_base_url))


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _limit(runtime: Runtime, action: str, request: Request, account: str | None) -> None:
    try:
        await runtime.rate_limiter.hit(action, account=account, address=_address(request))
    except RateLimited as exc:
        raise ApiError(
            429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None


ACCEPTED = {"message": "if the address can receive it, an email is on its way"}


@router.post("/signup", status_code=202, operation_id="auth-signup")
async def sign_up(
    body: SignUp, request: Request, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    """Create an account and its workspace; the account opens once its email is confirmed."""
    await _limit(runtime, "signup", request, body.email)
    await service.sign_up(
        session,
        runtime.mailer,
        _links(runtime),
        body.email,
        body.password,
        body.workspace,
        starter_plugins(runtime),
    )
    return ACCEPTED


def starter_plugins(runtime: Runtime) -> list[str]:
    """What a new workspace gets installed: the configured plugins its plan includes."""
    wanted = runtime.settings.new_workspace_plugins
    if runtime.billing is None:
        return list(wanted)
    plan = runtime.billing.standing(None, utcnow()).plan
    return [plugin for plugin in wanted if plan.allows(plugin)]


@router.post("/verify-email", operation_id="auth-verify-email")
async def verify_email(body: TokenOnly, session: SessionDep) -> dict[str, str]:
    user: User = await service.verify_email(session, body.token)
    return {"email": user.email}


@router.post("/resend-verification", status_code=202, operation_id="auth-resend-verification")
async def resend_verification(
    body: EmailOnly, request: Request, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    await _limit(runtime, "reset", request, body.email)
    await service.resend_verification(session, runtime.mailer, _links(runtime), body.email)
    return ACCEPTED


def _set_cookies(response: Response, runtime: Runtime, token: str, csrf: str) -> None:
    settings = runtime.settings
    secure = settings.public_base_url.host not in ("localhost", "127.0.0.1")
    max_age = int(timedelta(days=settings.session_days).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    # Readable by the web app, which sends it back in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax"
    )


def _clear_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


async def _account(session: AsyncSession, browser: Browser) -> dict[str, Any]:
    workspaces = await service.memberships(session, browser.user.id)
    return {
        "user": {
            "id": str(browser.user.id),
            "email": browser.user.email,
            "staff": browser.user.is_staff,
        },
        "workspace": browser.tenant_slug,
        "workspace_name": browser.tenant_name,
        "role": browser.role.value if browser.role else None,
        "impersonating": browser.impersonating,
        "workspaces": [
            {"slug": tenant.slug, "name": tenant.name, "role": role.value}
            for tenant, role in workspaces
        ],
        "csrf_token": browser.csrf_token,
    }


@router.post("/login", operation_id="auth-login")
async def log_in(
    body: LogIn,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Open a browser session (cookies); the answer carries the CSRF token to send back."""
    await _limit(runtime, "login", request, body.email)
    user: User = await service.authenticate(session, body.email, body.password)
    await runtime.rate_limiter.clear("login", account=body.email)
    workspaces = await service.memberships(session, user.id)
    chosen = workspaces[0][0] if workspaces else None
    if body.workspace is not None:
        chosen = next((t for t, _ in workspaces if t.slug == body.workspace), None)
        if chosen is None:
            raise ApiError(403, "forbidden", "you are not a member of this workspace")
    row, token = await open_session(
        session,
        user,
        chosen.id if chosen else None,
        timedelta(days=runtime.settings.session_days),
        request.headers.get("user-agent", ""),
    )
    await session.commit()
    _set_cookies(response, runtime, token, row.csrf_token)
    browser = await Browser.of(session, row, user)
    return await _account(session, browser)


@router.get("/me", operation_id="auth-me")
async def me(browser: BrowserDep, session: SessionDep) -> dict[str, Any]:
    return await _account(session, browser)


@router.post("/switch", operation_id="auth-switch")
async def switch(body: Switch, browser: BrowserDep, session: SessionDep) -> dict[str, Any]:
    """Work in another of the user's workspaces."""
    if browser.impersonating:
        raise ApiError(403, "forbidden", "end the impersonation first")
    workspaces = await service.memberships(session, browser.user.id)
    chosen = next((t for t, _ in workspaces if t.slug == body.workspace), None)
    if chosen is None:
        raise ApiError(403, "forbidden", "you are not a member of this workspace")
    browser.session.tenant_id = chosen.id
    await session.commit()
    return await _account(session, await Browser.of(session, browser.session, browser.user))


@router.post("/logout", status_code=204, operation_id="auth-logout")
async def log_out(browser: BrowserDep, session: SessionDep, response: Response) -> None:
    await end_session(session, browser.session.id)
    await session.commit()
    _clear_cookies(response)


@router.post("/logout-everywhere", status_code=204, operation_id="auth-logout-everywhere")
async def log_out_everywhere(browser: BrowserDep, session: SessionDep, response: Response) -> None:
    """End every session of this account, on every device."""
    await end_sessions(session, browser.user.id)
    await session.commit()
    _clear_cookies(response)


@router.post("/password-reset", status_code=202, operation_id="auth-password-reset")
async def request_reset(
    body: EmailOnly, request: Request, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    await _limit(runtime, "reset", request, body.email)
    await service.request_password_reset(session, runtime.mailer, _links(runtime), body.email)
    return ACCEPTED


@router.post("/password-reset/confirm", operation_id="auth-password-reset-confirm")
async def confirm_reset(
    body: NewPassword, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    """Set the new password; every session of the account ends."""
    user: User = await service.reset_password(session, body.token, body.password)
    await runtime.rate_limiter.clear("login", account=user.email)
    return {"email": user.email}


@router.post("/email-change", status_code=202, operation_id="auth-email-change")
async def request_email_change(
    body: EmailChange, browser: BrowserDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, str]:
    """Send a confirmation link to the new address (and a notice to the current one)."""
    if browser.impersonating:
        raise ApiError(403, "forbidden", "an impersonating session changes nothing")
    await service.request_email_change(
        session, runtime.mailer, _links(runtime), browser.user, body.password, body.new_email
    )
    return ACCEPTED


@router.post("/email-change/confirm", operation_id="auth-email-change-confirm")
async def confirm_email_change(body: TokenOnly, session: SessionDep) -> dict[str, str]:
    user: User = await service.confirm_email_change(session, body.token)
    return {"email": user.email}
