"""MobCash's API as integrators describe it. MobCash publishes no documentation: every
shape below (paths, method names, parameters, error codes) is unconfirmed and kept in
this one module, so that a correction is made here and nowhere else.

* JSON-RPC 2.0 over HTTPS, `POST {base}/api/`, with `Authorization: Bearer <token>`
  (opaque Ory Hydra access tokens, `ory_at_…`); every call's params carry `userID`,
  `sessionID` and `location`.
* `mobile.login {location, cashboxCode, userID}` opens a cash-desk session.
* `mobile.payerNickname {payerID}` checks a player; it must precede a deposit.
* `mobile.deposit {deposit: {amount, payerID}}` tops the player up.
* `mobile.getWithdrawalAmount {code}` and `mobile.withdrawal {code}` pay out a
  withdrawal code.
* A cash desk with its own credentials logs in directly:
  `POST {base}/api/v2/cashbox/login {cashboxCode, login, password}` answers
  `{accessToken, expiresIn, sessionID, userID}`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

RPC_PATH = "/api/"
CASHBOX_LOGIN_PATH = "/api/v2/cashbox/login"
DEFAULT_TIMEOUT_SECONDS = 20.0

# JSON-RPC error codes seen from MobCash (unconfirmed).
UNKNOWN_PAYER = 404
INSUFFICIENT_BALANCE = 402
PAYER_NOT_CHECKED = 409

_ids = itertools.count(1)


class MobCashError(Exception):
    """MobCash answered with an error; `code` is its JSON-RPC error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class MobCashUnauthorized(MobCashError):
    """The token (or the cash desk's log-in) was refused."""


class MobCashUnreachable(Exception):
    """No answer: MobCash could not be reached, or did not answer in time. Whether a
    request that was sent took effect is unknown (`sent`)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class Session:
    access_token: str
    user_id: str
    session_id: str
    location: str


@dataclass(frozen=True)
class CashboxLogin:
    access_token: str
    expires_at: datetime
    session_id: str
    user_id: str


class MobCashApi:
    def __init__(
        self, base_url: str, http: httpx.AsyncClient, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._timeout = timeout

    async def _post(
        self, path: str, body: dict[str, Any], token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return await self._http.post(
                f"{self._base}{path}", json=body, headers=headers, timeout=self._timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise MobCashUnreachable(
                f"MobCash could not be reached ({type(exc).__name__})", sent=False
            ) from None
        except httpx.HTTPError as exc:
            raise MobCashUnreachable(
                f"MobCash did not answer ({type(exc).__name__})", sent=True
            ) from None

    async def call(self, session: Session, method: str, **params: Any) -> dict[str, Any]:
        body = {
            "jsonrpc": "2.0",
            "id": next(_ids),
            "method": method,
            "params": {
                "userID": session.user_id,
                "sessionID": session.session_id,
                "location": session.location,
                **params,
            },
        }
        response = await self._post(RPC_PATH, body, session.access_token)
        if response.status_code == 401:
            raise MobCashUnauthorized(401, "MobCash refused the access token (401)")
        if response.status_code >= 500:
            raise MobCashUnreachable(f"MobCash answered HTTP {response.status_code}", sent=True)
        try:
            answer = response.json()
        except ValueError:
            raise MobCashError(
                response.status_code, "MobCash answered something else than JSON"
            ) from None
        error = answer.get("error")
        if error:
            code = int(error.get("code", 0))
            message = str(error.get("message", "error"))
            if code == 401:
                raise MobCashUnauthorized(code, f"MobCash refused the session: {message}")
            raise MobCashError(code, message)
        result: dict[str, Any] = answer.get("result") or {}
        return result

    async def cashbox_login(self, cashbox_code: str, login: str, password: str) -> CashboxLogin:
        response = await self._post(
            CASHBOX_LOGIN_PATH, {"cashboxCode": cashbox_code, "login": login, "password": password}
        )
        if response.status_code in (400, 401, 403):
            raise MobCashUnauthorized(
                response.status_code, "MobCash refused the cash desk's log-in"
            )
        if not response.is_success:
            raise MobCashUnreachable(f"MobCash answered HTTP {response.status_code}", sent=True)
        body = response.json()
        return CashboxLogin(
            access_token=str(body["accessToken"]),
            expires_at=datetime.now(UTC) + timedelta(seconds=int(body.get("expiresIn", 3600))),
            session_id=str(body["sessionID"]),
            user_id=str(body["userID"]),
        )

    # ---- the methods -------------------------------------------------------------------

    async def login(self, session: Session, cashbox_code: str) -> str:
        """Open a cash-desk session; its id."""
        result = await self.call(session, "mobile.login", cashboxCode=cashbox_code)
        return str(result["sessionID"])

    async def payer_nickname(self, session: Session, payer_id: str) -> str:
        result = await self.call(session, "mobile.payerNickname", payerID=payer_id)
        return str(result.get("nickname", ""))

    async def deposit(self, session: Session, payer_id: str, amount: Decimal) -> dict[str, Any]:
        return await self.call(
            session, "mobile.deposit", deposit={"amount": str(amount), "payerID": payer_id}
        )

    async def withdrawal_amount(self, session: Session, code: str) -> Decimal:
        result = await self.call(session, "mobile.getWithdrawalAmount", code=code)
        return Decimal(str(result["amount"]))

    async def withdrawal(self, session: Session, code: str) -> dict[str, Any]:
        return await self.call(session, "mobile.withdrawal", code=code)
