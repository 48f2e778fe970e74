"""A MobCash sandbox: cash desks, players and tokens in memory, answering the shapes in
`junction_mobcash.api`, for the demo and the tests.

`/_sandbox/…` is its inspection API: cash desks and players are added there, tokens for
the manual mode issued there (as an operator would copy one from the browser), tokens
expired or revoked, and the next deposit made to time out after it is applied.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from junction_mobcash.api import INSUFFICIENT_BALANCE, PAYER_NOT_CHECKED, UNKNOWN_PAYER

TOKEN_SECONDS = 3600.0


@dataclass
class Cashbox:
    code: str
    login: str
    password: str
    balance: Decimal
    user_id: str


@dataclass
class Token:
    user_id: str
    expires_at: float


@dataclass
class MobCashState:
    cashboxes: dict[str, Cashbox] = field(default_factory=dict)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    # sessionID -> (userID, cashbox code)
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    checked: set[tuple[str, str]] = field(default_factory=set)
    deposits: list[dict[str, Any]] = field(default_factory=list)
    withdrawal_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: int = 0
    # The next deposit is applied, then answered only after this many seconds (0: off).
    delay_next_deposit: float = 0.0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def issue(self, user_id: str, seconds: float = TOKEN_SECONDS) -> str:
        token = "ory_at_" + secrets.token_urlsafe(32)
        self.tokens[token] = Token(user_id, time.time() + seconds)
        return token

    def open_session(self, user_id: str, cashbox: str) -> str:
        session_id = secrets.token_hex(12)
        self.sessions[session_id] = (user_id, cashbox)
        return session_id


def _rpc_error(request_id: Any, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    )


def create_app(state: MobCashState | None = None) -> FastAPI:
    state = state or MobCashState()
    app = FastAPI(title="MobCash sandbox", openapi_url=None)
    app.state.sandbox = state

    @app.post("/api/v2/cashbox/login")
    async def cashbox_login(body: dict[str, Any]) -> JSONResponse:
        cashbox = state.cashboxes.get(str(body.get("cashboxCode", "")))
        if cashbox is None or (body.get("login"), body.get("password")) != (
            cashbox.login,
            cashbox.password,
        ):
            return JSONResponse({"error": "invalid credentials"}, status_code=401)
        state.logins += 1
        return JSONResponse(
            {
                "accessToken": state.issue(cashbox.user_id),
                "expiresIn": int(TOKEN_SECONDS),
                "sessionID": state.open_session(cashbox.user_id, cashbox.code),
                "userID": cashbox.user_id,
            }
        )

    @app.post("/api/")
    async def rpc(request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        grant = state.tokens.get(token)
        if grant is None or grant.expires_at < time.time():
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        request_id = body.get("id")
        params: dict[str, Any] = body.get("params") or {}
        if str(params.get("userID")) != grant.user_id:
            return _rpc_error(request_id, 401, "the user does not own this token")
        method = body.get("method")
        if method == "mobile.login":
            code = str(params.get("cashboxCode", ""))
            if code not in state.cashboxes:
                return _rpc_error(request_id, 404, "unknown cash desk")
            result: dict[str, Any] = {"sessionID": state.open_session(grant.user_id, code)}
            return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})
        session = state.sessions.get(str(params.get("sessionID", "")))
        if session is None or session[0] != grant.user_id:
            return _rpc_error(request_id, 401, "session expired")
        cashbox = state.cashboxes[session[1]]
        if method == "mobile.payerNickname":
            player = state.players.get(str(params.get("payerID", "")))
            if player is None:
                return _rpc_error(request_id, UNKNOWN_PAYER, "payer not found")
            state.checked.add((str(params.get("sessionID")), player["id"]))
            result = {"nickname": player["nickname"]}
        elif method == "mobile.deposit":
            deposit = params.get("deposit") or {}
            payer_id = str(deposit.get("payerID", ""))
            player = state.players.get(payer_id)
            if player is None:
                return _rpc_error(request_id, UNKNOWN_PAYER, "payer not found")
            if (str(params.get("sessionID")), payer_id) not in state.checked:
                return _rpc_error(request_id, PAYER_NOT_CHECKED, "check the payer first")
            amount = Decimal(str(deposit.get("amount", "0")))
            if amount <= 0:
                return _rpc_error(request_id, 400, "invalid amount")
            if amount > cashbox.balance:
                return _rpc_error(
                    request_id, INSUFFICIENT_BALANCE, "insufficient cash desk balance"
                )
            cashbox.balance -= amount
            player["balance"] = str(Decimal(player["balance"]) + amount)
            operation = {"operationID": next(state.ids), "payerID": payer_id, "amount": str(amount)}
            state.deposits.append({**operation, "cashbox": cashbox.code})
            result = {**operation, "cashboxBalance": str(cashbox.balance)}
            if state.delay_next_deposit:
                delay, state.delay_next_deposit = state.delay_next_deposit, 0.0
                await asyncio.sleep(delay)
        elif method == "mobile.getWithdrawalAmount":
            found = state.withdrawal_codes.get(str(params.get("code", "")))
            if found is None or found["paid"]:
                return _rpc_error(request_id, 404, "withdrawal code not found")
            result = {"amount": found["amount"], "payerID": found["payerID"]}
        elif method == "mobile.withdrawal":
            found = state.withdrawal_codes.get(str(params.get("code", "")))
            if found is None or found["paid"]:
                return _rpc_error(request_id, 404, "withdrawal code not found")
            found["paid"] = True
            cashbox.balance += Decimal(found["amount"])
            result = {"operationID": next(state.ids), "amount": found["amount"]}
        else:
            return _rpc_error(request_id, -32601, f"method {method!r} not found")
        return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})

    # ---- inspection ----------------------------------------------------------------------

    @app.post("/_sandbox/cashboxes")
    async def add_cashbox(body: dict[str, Any]) -> dict[str, Any]:
        code = str(body.get("code") or f"CB{next(state.ids)}")
        cashbox = Cashbox(
            code=code,
            login=str(body.get("login", f"agent-{code}")),
            password=str(body.get("password", secrets.token_urlsafe(12))),
            balance=Decimal(str(body.get("balance", "100000"))),
            user_id=str(body.get("user_id", next(state.ids))),
        )
        state.cashboxes[code] = cashbox
        return _cashbox(cashbox)

    def _cashbox(cashbox: Cashbox) -> dict[str, Any]:
        return {
            "code": cashbox.code,
            "login": cashbox.login,
            "password": cashbox.password,
            "balance": str(cashbox.balance),
            "user_id": cashbox.user_id,
            "deposits": [d for d in state.deposits if d["cashbox"] == cashbox.code],
        }

    @app.get("/_sandbox/cashboxes/{code}")
    async def cashbox_state(code: str) -> dict[str, Any]:
        return _cashbox(state.cashboxes[code])

    @app.post("/_sandbox/cashboxes/{code}/browser-session")
    async def browser_session(code: str, body: dict[str, Any]) -> dict[str, str]:
        """What an operator copies from the browser: a token, the user id, the session id."""
        cashbox = state.cashboxes[code]
        return {
            "access_token": state.issue(cashbox.user_id, float(body.get("seconds", TOKEN_SECONDS))),
            "user_id": cashbox.user_id,
            "session_id": state.open_session(cashbox.user_id, code),
        }

    @app.post("/_sandbox/cashboxes/{code}/expire-tokens")
    async def expire_tokens(code: str) -> dict[str, int]:
        user_id = state.cashboxes[code].user_id
        expired = 0
        for token in state.tokens.values():
            if token.user_id == user_id:
                token.expires_at = 0
                expired += 1
        return {"expired": expired}

    @app.post("/_sandbox/players")
    async def add_player(body: dict[str, Any]) -> dict[str, Any]:
        player = {
            "id": str(body.get("id") or next(state.ids)),
            "nickname": str(body.get("nickname", "player")),
            "balance": str(body.get("balance", "0")),
        }
        state.players[player["id"]] = player
        return player

    @app.get("/_sandbox/players/{payer_id}")
    async def player_state(payer_id: str) -> dict[str, Any]:
        return state.players[payer_id]

    @app.post("/_sandbox/withdrawal-codes")
    async def add_withdrawal_code(body: dict[str, Any]) -> dict[str, Any]:
        code = str(body.get("code") or secrets.token_hex(4))
        state.withdrawal_codes[code] = {
            "amount": str(body.get("amount", "100")),
            "payerID": str(body.get("payerID", "")),
            "paid": False,
        }
        return {"code": code, **state.withdrawal_codes[code]}

    @app.patch("/_sandbox/options")
    async def options(body: dict[str, Any]) -> dict[str, Any]:
        if "delay_next_deposit" in body:
            state.delay_next_deposit = float(body["delay_next_deposit"])
        return {"delay_next_deposit": state.delay_next_deposit}

    @app.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        return {"logins": state.logins, "deposits": len(state.deposits)}

    return app
