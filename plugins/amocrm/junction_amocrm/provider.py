"""The amoCRM connection provider: probing and refreshing OAuth2 tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from junction.plugins.interfaces import (
    ConnectionProvider,
    CredentialsRejected,
    ProbeResult,
    RefreshedCredentials,
)
from junction_amocrm.hosts import HostNotAllowed, api_base_url
from junction_amocrm.settings import AmoSettings

TOKEN_PATH = "/oauth2/access_token"  # noqa: S105 - a path, not a secret


def _amocrm_errors(response: httpx.Response) -> httpx.Response:
    """amoCRM answers token errors as problem JSON (`hint`, `title`) without OAuth's
    `error` field; Authlib would take such a body for a token."""
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        hint = body.get("hint") or body.get("detail") or f"HTTP {response.status_code}"
        error = "invalid_grant" if response.status_code in (400, 401) else "server_error"
        raise OAuthError(error=error, description=str(hint))
    return response


def oauth_client(settings: AmoSettings, secrets: Mapping[str, Any]) -> AsyncOAuth2Client:
    """An Authlib client with the tenant's own integration, or the platform's."""
    client_id = secrets.get("client_id") or settings.client_id
    client_secret = secrets.get("client_secret") or settings.client_secret.get_secret_value()
    client = AsyncOAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        redirect_uri=secrets.get("redirect_uri") or settings.redirect_uri,
        timeout=30,
    )
    client.register_compliance_hook("access_token_response", _amocrm_errors)
    client.register_compliance_hook("refresh_token_response", _amocrm_errors)
    return client


def token_expiry(token: Mapping[str, Any]) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=int(token.get("expires_in", 86400)))


class AmoProvider(ConnectionProvider):
    name = "amocrm"
    title = "amoCRM"
    can_refresh = True

    def __init__(self, settings: AmoSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> AmoSettings:
        # Read when first needed, so loading the plugin never depends on the environment.
        if self._settings is None:
            self._settings = AmoSettings()
        return self._settings

    def base_url(self, details: Mapping[str, Any]) -> str:
        return api_base_url(str(details["domain"]), self.settings.extra_hosts)

    async def probe(self, secrets: Mapping[str, Any], details: Mapping[str, Any]) -> ProbeResult:
        try:
            base = self.base_url(details)
        except HostNotAllowed as exc:
            return ProbeResult(ok=False, detail=str(exc))
        async with httpx.AsyncClient(timeout=15) as http:
            try:
                response = await http.get(
                    f"{base}/api/v4/account",
                    headers={"Authorization": f"Bearer {secrets['access_token']}"},
                )
            except httpx.HTTPError as exc:
                return ProbeResult(
                    ok=False, detail=f"amoCRM could not be reached: {type(exc).__name__}"
                )
        if response.status_code == 200:
            return ProbeResult(ok=True, detail=f"account {response.json().get('name')}")
        return ProbeResult(ok=False, detail=f"amoCRM answered {response.status_code}")

    async def refresh(
        self, secrets: Mapping[str, Any], details: Mapping[str, Any]
    ) -> RefreshedCredentials:
        if not secrets.get("refresh_token"):
            raise CredentialsRejected("this amoCRM token cannot be renewed; paste a new one")
        try:
            base = self.base_url(details)
        except HostNotAllowed as exc:
            raise CredentialsRejected(str(exc)) from None
        async with oauth_client(self.settings, secrets) as client:
            try:
                token = await client.refresh_token(
                    f"{base}{TOKEN_PATH}", refresh_token=secrets["refresh_token"]
                )
            except OAuthError as exc:
                if exc.error == "invalid_grant":
                    raise CredentialsRejected(
                        f"amoCRM refused the refresh token ({exc.description}); reconnect amoCRM"
                    ) from None
                raise
        renewed = {
            **secrets,
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
        }
        return RefreshedCredentials(secrets=renewed, expires_at=token_expiry(token))
