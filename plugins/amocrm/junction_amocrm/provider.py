"""The amoCRM connection provider: probing and refreshing OAuth2 tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from junction.outbound import http_client, tls
from junction.plugins.interfaces import (
    AuthorizationError,
    ConnectionProvider,
    CredentialsRejected,
    NewConnection,
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
        error = {400: "invalid_grant", 401: "invalid_grant", 404: "not_found"}.get(
            response.status_code, "server_error"
        )
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
        verify=tls(),
    )
    client.register_compliance_hook("access_token_response", _amocrm_errors)
    client.register_compliance_hook("refresh_token_response", _amocrm_errors)
    return client


def token_expiry(token: Mapping[str, Any]) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=int(token.get("expires_in", 86400)))


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verifying it: only to know when it expires and where
    the account's API lives, never to trust anything."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> datetime | None:
    exp = jwt_claims(token).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, (int, float)) else None


def _field(en: str, ru: str, description: str | None = None, secret: bool = False) -> Any:
    """A credential field, labelled in English and Russian for the web app's form."""
    extra: dict[str, Any] = {"x-i18n": {"ru": {"title": ru}}}
    if secret:
        extra["x-widget"] = "password"
    return Field(min_length=1, title=en, description=description, json_schema_extra=extra)


DOMAIN_HINT = "Your account's address: yourcompany.amocrm.ru"


class LongLivedToken(BaseModel):
    """A long-lived token made in the account's integration settings; it cannot be
    renewed, so it is reported before it expires."""

    model_config = ConfigDict(
        title="Long-lived token",
        json_schema_extra={"x-i18n": {"ru": {"title": "Долгосрочный токен"}}},
    )

    domain: str = _field("Account address", "Адрес аккаунта", DOMAIN_HINT)
    access_token: str = _field("Long-lived token", "Долгосрочный токен", secret=True)


class PrivateIntegration(BaseModel):
    """A private integration's keys and the authorization code its settings show."""

    model_config = ConfigDict(
        title="Private integration",
        json_schema_extra={"x-i18n": {"ru": {"title": "Приватная интеграция"}}},
    )

    domain: str = _field("Account address", "Адрес аккаунта", DOMAIN_HINT)
    client_id: str = _field("Integration id", "ID интеграции")
    client_secret: str = _field("Secret key", "Секретный ключ", secret=True)
    redirect_uri: str = _field("Redirect URL", "Ссылка для перенаправления")
    code: str = _field("Authorization code", "Код авторизации", secret=True)


class AmoProvider(ConnectionProvider):
    name = "amocrm"
    title = "amoCRM"
    # amoCRM's refresh tokens die after three months unused: renew monthly regardless.
    keep_alive = timedelta(days=30)
    consent = True
    credential_forms = (LongLivedToken, PrivateIntegration)

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

    def renewable(self, secrets: Mapping[str, Any]) -> bool:
        # OAuth grants carry a refresh token; pasted long-lived tokens do not.
        return bool(secrets.get("refresh_token"))

    async def probe(self, secrets: Mapping[str, Any], details: Mapping[str, Any]) -> ProbeResult:
        try:
            base = self.base_url(details)
        except HostNotAllowed as exc:
            return ProbeResult(ok=False, detail=str(exc))
        async with http_client(timeout=15) as http:
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
        if response.status_code == 429:
            # amoCRM checks the token before the rate: the credentials work, the account
            # is busy (orders being written); that is no reason to alarm anyone.
            return ProbeResult(ok=True, detail="credentials accepted; the account is busy (429)")
        return ProbeResult(
            ok=False,
            detail=f"amoCRM answered {response.status_code}",
            refused=response.status_code == 401,
        )

    # ---- connecting -----------------------------------------------------------------

    def authorization_url(self, state: str) -> str:
        if not self.settings.client_id:
            raise AuthorizationError(
                "the platform's amoCRM integration is not configured (JUNCTION_AMOCRM_CLIENT_ID)"
            )
        client = oauth_client(self.settings, {})
        url, _ = client.create_authorization_url(
            self.settings.consent_url, state=state, mode="post_message"
        )
        return str(url)

    async def complete_authorization(self, params: Mapping[str, str]) -> NewConnection:
        if params.get("error"):
            raise AuthorizationError(
                f"amoCRM access was not granted ({params['error']}); nothing was connected"
            )
        code, domain = params.get("code"), params.get("referer")
        if not code or not domain:
            raise AuthorizationError(
                "amoCRM's answer lacks the authorization code or the account domain; connect again"
            )
        if params.get("client_id") and params["client_id"] != self.settings.client_id:
            raise AuthorizationError("amoCRM answered for another integration; connect again")
        return await self._exchange(domain, code, {})

    async def connect_with_credentials(self, fields: Mapping[str, Any]) -> NewConnection:
        private = _parsed(PrivateIntegration, fields)
        if private is not None:
            integration = private.model_dump(include={"client_id", "client_secret", "redirect_uri"})
            return await self._exchange(private.domain, private.code, integration)
        long_lived = _parsed(LongLivedToken, fields)
        if long_lived is not None:
            base = self._base_or_refuse(long_lived.domain)
            token = long_lived.access_token
            account = await self._account(base, token)
            return self._new_connection(
                long_lived.domain, account, {"access_token": token}, jwt_expiry(token)
            )
        raise AuthorizationError(
            "send either a long-lived token (domain, access_token) or a private integration's "
            "authorization code (domain, client_id, client_secret, redirect_uri, code)"
        )

    def disconnected_account(self, params: Mapping[str, str]) -> str | None:
        client_id, account_id = params.get("client_uuid", ""), params.get("account_id", "")
        secret = self.settings.client_secret.get_secret_value()
        if not (client_id and account_id and secret) or client_id != self.settings.client_id:
            return None
        expected = hmac.new(
            secret.encode(), f"{client_id}|{account_id}".encode(), hashlib.sha256
        ).hexdigest()
        return account_id if hmac.compare_digest(params.get("signature", ""), expected) else None

    def _base_or_refuse(self, domain: str) -> str:
        try:
            return api_base_url(domain, self.settings.extra_hosts)
        except HostNotAllowed as exc:
            raise AuthorizationError(f"{exc}; nothing was sent to it") from None

    async def _exchange(
        self, domain: str, code: str, integration: Mapping[str, str]
    ) -> NewConnection:
        base = self._base_or_refuse(domain)
        async with oauth_client(self.settings, integration) as client:
            try:
                token = await client.fetch_token(
                    f"{base}{TOKEN_PATH}", grant_type="authorization_code", code=code
                )
            except OAuthError as exc:
                raise AuthorizationError(
                    f"amoCRM refused the authorization code ({exc.description}); connect again"
                ) from None
            except httpx.HTTPError as exc:
                raise AuthorizationError(
                    f"amoCRM could not be reached ({type(exc).__name__})"
                ) from None
        account = await self._account(base, token["access_token"])
        secrets = {
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
            **integration,
        }
        return self._new_connection(domain, account, secrets, token_expiry(token))

    async def _account(self, base: str, access_token: str) -> dict[str, Any]:
        async with http_client(timeout=15) as http:
            try:
                response = await http.get(
                    f"{base}/api/v4/account", headers={"Authorization": f"Bearer {access_token}"}
                )
            except httpx.HTTPError as exc:
                raise AuthorizationError(
                    f"amoCRM could not be reached ({type(exc).__name__})"
                ) from None
        if response.status_code != 200:
            raise AuthorizationError(
                f"amoCRM did not let the token read the account (HTTP {response.status_code})"
            )
        account: dict[str, Any] = response.json()
        return account

    @staticmethod
    def _new_connection(
        domain: str,
        account: Mapping[str, Any],
        secrets: Mapping[str, Any],
        expires_at: datetime | None,
    ) -> NewConnection:
        return NewConnection(
            account_ref=str(account["id"]),
            name=f"amoCRM: {account.get('name', account['id'])}",
            secrets=secrets,
            details={
                "domain": domain.lower(),
                "account_id": account["id"],
                "subdomain": account.get("subdomain"),
                "account_name": account.get("name"),
            },
            expires_at=expires_at,
        )

    # ---- keeping tokens alive ---------------------------------------------------------

    async def refresh(
        self, secrets: Mapping[str, Any], details: Mapping[str, Any]
    ) -> RefreshedCredentials:
        if not secrets.get("refresh_token"):
            raise CredentialsRejected("this amoCRM token cannot be renewed; paste a new one")
        domain = str(details["domain"])
        try:
            token = await self._refresh_at(domain, secrets)
        except OAuthError as exc:
            if exc.error not in ("invalid_grant", "not_found"):
                raise
            # A renamed account answers on a new domain: amoCRM says which one.
            moved_to = await self._current_domain(secrets)
            if moved_to is None or moved_to == domain:
                raise CredentialsRejected(
                    f"amoCRM refused the refresh token ({exc.description}); reconnect amoCRM"
                ) from None
            try:
                token = await self._refresh_at(moved_to, secrets)
            except OAuthError as retry_exc:
                raise CredentialsRejected(
                    f"amoCRM refused the refresh token ({retry_exc.description}); reconnect amoCRM"
                ) from None
            domain = moved_to
        renewed = {
            **secrets,
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
        }
        return RefreshedCredentials(
            secrets=renewed, expires_at=token_expiry(token), details={"domain": domain}
        )

    async def _refresh_at(self, domain: str, secrets: Mapping[str, Any]) -> dict[str, Any]:
        try:
            base = api_base_url(domain, self.settings.extra_hosts)
        except HostNotAllowed as exc:
            raise CredentialsRejected(str(exc)) from None
        async with oauth_client(self.settings, secrets) as client:
            token: dict[str, Any] = await client.refresh_token(
                f"{base}{TOKEN_PATH}", refresh_token=secrets["refresh_token"]
            )
        return token

    async def _current_domain(self, secrets: Mapping[str, Any]) -> str | None:
        """The account's current domain, asked of the API host named in the token."""
        api_domain = jwt_claims(str(secrets.get("access_token", ""))).get("api_domain")
        if not api_domain:
            return None
        try:
            base = api_base_url(str(api_domain), self.settings.extra_hosts)
        except HostNotAllowed:
            return None
        async with http_client(timeout=15) as http:
            try:
                response = await http.get(
                    f"{base}/oauth2/account/current/subdomain",
                    headers={"X-Refresh-Token": str(secrets["refresh_token"])},
                )
            except httpx.HTTPError:
                return None
        if response.status_code != 200:
            return None
        domain = response.json().get("domain")
        return str(domain).lower() if domain else None


Form = TypeVar("Form", bound=BaseModel)


def _parsed(form: type[Form], fields: Mapping[str, Any]) -> Form | None:
    """The fields read as `form`, or None when they are not (all) there."""
    try:
        return form.model_validate(
            {key: str(value) for key, value in fields.items() if value is not None}
        )
    except ValidationError:
        return None
