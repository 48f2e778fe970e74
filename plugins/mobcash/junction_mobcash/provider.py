"""The MobCash connection provider, in two modes.

* **manual**: the operator pastes the bearer token, user id and session id copied from
  the browser. Nothing can renew them: a probe tells whether they work, and a 401 marks
  the connection for a person (its work pauses, the workspace is alerted).
* **cash desk**: the cash desk's own log-in (code, login, password) is stored, and
  Junction logs in again by itself before the token expires or after a 401, one process
  at a time, like any renewal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from junction.outbound import http_client
from junction.plugins.interfaces import (
    AuthorizationError,
    ConnectionProvider,
    CredentialsRejected,
    NewConnection,
    ProbeResult,
    RefreshedCredentials,
)
from junction_mobcash.api import (
    MobCashApi,
    MobCashError,
    MobCashUnauthorized,
    MobCashUnreachable,
    Session,
)
from junction_mobcash.settings import MobCashSettings

# The probe asks for a player nobody has: any answer but a refusal means the session works.
PROBE_PAYER = "0"
Text = Annotated[str, Field(min_length=1, max_length=500)]


def _label(en: str, ru: str, description: str = "", secret: bool = False) -> Any:
    """A credential field's label in English and Russian, for the web app's form."""
    extra: dict[str, Any] = {"x-i18n": {"ru": {"title": ru}}}
    if secret:
        extra["x-widget"] = "password"
    return Field(title=en, description=description or None, json_schema_extra=extra)


class ManualFields(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        title="Browser session",
        json_schema_extra={
            "description": "Copied from the cash desk's page in a logged-in browser.",
            "x-i18n": {
                "ru": {
                    "title": "Сессия браузера",
                    "description": "Скопированная со страницы кассы в браузере, где вы вошли.",
                }
            },
        },
    )

    mode: Literal["manual"]
    base_url: Annotated[Text, _label("Cash desk address", "Адрес кассы")]
    location: Annotated[Text, _label("Location", "Точка")]
    access_token: Annotated[
        str, Field(min_length=8, max_length=4000), _label("Access token", "Токен", secret=True)
    ]
    user_id: Annotated[Text, _label("User id", "ID пользователя")]
    session_id: Annotated[Text, _label("Session id", "ID сессии", secret=True)]
    cashbox_code: Annotated[
        str, Field(default="", max_length=100), _label("Cash desk code", "Код кассы")
    ]


class CashboxFields(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        title="Cash desk log-in",
        json_schema_extra={
            "description": "Junction logs in itself and logs in again when the session ends.",
            "x-i18n": {
                "ru": {
                    "title": "Вход в кассу",
                    "description": "Junction входит сам и входит снова, когда сессия кончается.",
                }
            },
        },
    )

    mode: Literal["cashbox"]
    base_url: Annotated[Text, _label("Cash desk address", "Адрес кассы")]
    location: Annotated[Text, _label("Location", "Точка")]
    cashbox_code: Annotated[
        str, Field(min_length=1, max_length=100), _label("Cash desk code", "Код кассы")
    ]
    login: Annotated[Text, _label("Login", "Логин")]
    password: Annotated[Text, _label("Password", "Пароль", secret=True)]


Fields = TypeAdapter(Annotated[ManualFields | CashboxFields, Field(discriminator="mode")])


def session_of(secrets: Mapping[str, Any], details: Mapping[str, Any]) -> Session:
    return Session(
        access_token=str(secrets["access_token"]),
        user_id=str(secrets["user_id"]),
        session_id=str(secrets["session_id"]),
        location=str(details["location"]),
    )


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"] if part not in ("manual", "cashbox"))
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts)


class MobCashProvider(ConnectionProvider):
    name = "mobcash"
    title = "MobCash"
    credential_forms = (CashboxFields, ManualFields)

    def __init__(self, settings: MobCashSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> MobCashSettings:
        # Read at each use unless given: the provider is built when the plugin loads,
        # before a process has its environment settled.
        return self._settings or MobCashSettings()

    def api(self, details: Mapping[str, Any], http: Any) -> MobCashApi:
        base = self.settings.check_base_url(str(details["base_url"]))
        return MobCashApi(base, http, timeout=self.settings.timeout_seconds)

    def renewable(self, secrets: Mapping[str, Any]) -> bool:
        # Cash-desk mode keeps the log-in; a pasted token has nothing to renew it with.
        return bool(secrets.get("password"))

    async def probe(self, secrets: Mapping[str, Any], details: Mapping[str, Any]) -> ProbeResult:
        async with http_client() as http:
            try:
                await self.api(details, http).payer_nickname(
                    session_of(secrets, details), PROBE_PAYER
                )
            except MobCashUnauthorized as exc:
                return ProbeResult(ok=False, detail=str(exc), refused=True)
            except MobCashUnreachable as exc:
                return ProbeResult(ok=False, detail=str(exc))
            except MobCashError:
                pass  # it answered for the session: the credentials work
            except ValueError as exc:
                return ProbeResult(ok=False, detail=str(exc))
        return ProbeResult(ok=True, detail=f"session {details.get('location')} works")

    async def refresh(
        self, secrets: Mapping[str, Any], details: Mapping[str, Any]
    ) -> RefreshedCredentials:
        if not secrets.get("password"):
            raise CredentialsRejected(
                "a MobCash token copied from the browser cannot be renewed; paste a new one"
            )
        async with http_client() as http:
            try:
                login = await self.api(details, http).cashbox_login(
                    str(details["cashbox_code"]), str(secrets["login"]), str(secrets["password"])
                )
            except MobCashUnauthorized:
                raise CredentialsRejected(
                    "MobCash refused the cash desk's log-in; check its login and password"
                ) from None
        return RefreshedCredentials(
            secrets={
                **secrets,
                "access_token": login.access_token,
                "session_id": login.session_id,
                "user_id": login.user_id,
            },
            expires_at=login.expires_at,
        )

    async def connect_with_credentials(self, fields: Mapping[str, Any]) -> NewConnection:
        try:
            chosen = Fields.validate_python(dict(fields))
            base = self.settings.check_base_url(chosen.base_url)
        except ValidationError as exc:
            raise AuthorizationError(
                f"the MobCash credentials are incomplete: {_explain(exc)}"
            ) from None
        except ValueError as exc:
            raise AuthorizationError(str(exc)) from None
        host = urlsplit(base).netloc
        details: dict[str, Any] = {
            "mode": chosen.mode,
            "base_url": base,
            "location": chosen.location,
            "cashbox_code": chosen.cashbox_code,
        }
        if isinstance(chosen, ManualFields):
            return NewConnection(
                account_ref=f"{chosen.user_id}@{host}",
                name=f"MobCash {chosen.cashbox_code or chosen.user_id}",
                secrets={
                    "access_token": chosen.access_token,
                    "user_id": chosen.user_id,
                    "session_id": chosen.session_id,
                },
                details=details,
                expires_at=None,
            )
        async with http_client() as http:
            try:
                login = await MobCashApi(
                    base, http, timeout=self.settings.timeout_seconds
                ).cashbox_login(chosen.cashbox_code, chosen.login, chosen.password)
            except MobCashUnauthorized:
                raise AuthorizationError("MobCash refused the cash desk's log-in") from None
            except MobCashUnreachable as exc:
                raise AuthorizationError(str(exc)) from None
        return NewConnection(
            account_ref=f"{login.user_id}@{host}",
            name=f"MobCash cash desk {chosen.cashbox_code}",
            secrets={
                "access_token": login.access_token,
                "user_id": login.user_id,
                "session_id": login.session_id,
                "login": chosen.login,
                "password": chosen.password,
            },
            details=details,
            expires_at=login.expires_at,
        )
