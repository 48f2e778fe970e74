"""The OAuth `state`: signed, short-lived and single-use.

It carries the tenant and provider through the consent page, so the callback (which
comes from the browser, unauthenticated) knows whose connection it completes. The HMAC
stops forgery; a nonce kept in Redis until first use stops replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis.asyncio import Redis

STATE_SECONDS = 20 * 60  # as long as amoCRM's authorization code lives


class StateError(Exception):
    """The state is forged, expired or already used; the message says which."""


@dataclass(frozen=True)
class OAuthState:
    tenant_id: uuid.UUID
    provider: str
    nonce: str
    # Who started connecting ("api_key:<id>", "user:<id>"), named in the audit log.
    actor_id: str
    # The browser session that started it, when a person did: only it may finish.
    browser_session: uuid.UUID | None = None


def _key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"junction/oauth-state/v1"
    ).derive(secret_key.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OAuthStates:
    def __init__(self, redis: Redis, secret_keys: list[str]) -> None:
        self._redis = redis
        self._keys = [_key(key) for key in secret_keys]

    async def issue(
        self,
        tenant_id: uuid.UUID,
        provider: str,
        actor_id: str,
        browser_session: uuid.UUID | None = None,
    ) -> str:
        nonce = secrets.token_urlsafe(16)
        payload = _b64(
            json.dumps(
                {
                    "t": str(tenant_id),
                    "p": provider,
                    "a": actor_id,
                    "b": str(browser_session) if browser_session else None,
                    "n": nonce,
                    "x": int(time.time()) + STATE_SECONDS,
                },
                separators=(",", ":"),
            ).encode()
        )
        signature = _b64(hmac.new(self._keys[0], payload.encode(), hashlib.sha256).digest())
        await self._redis.set(f"junction:oauth-state:{nonce}", "1", ex=STATE_SECONDS)
        return f"{payload}.{signature}"

    async def consume(self, state: str, provider: str) -> OAuthState:
        payload, _, signature = state.partition(".")
        try:
            given = _unb64(signature)
        except ValueError:
            raise StateError(
                "the sign-in link is not one Junction issued; start connecting again"
            ) from None
        if not any(
            hmac.compare_digest(given, hmac.new(key, payload.encode(), hashlib.sha256).digest())
            for key in self._keys
        ):
            raise StateError("the sign-in link is not one Junction issued; start connecting again")
        data = json.loads(_unb64(payload))
        if data["p"] != provider:
            raise StateError("the sign-in link was issued for another kind of connection")
        if data["x"] < time.time():
            raise StateError("the sign-in link has expired; start connecting again")
        if await self._redis.delete(f"junction:oauth-state:{data['n']}") != 1:
            raise StateError("the sign-in link was already used; start connecting again")
        browser = data.get("b")
        return OAuthState(
            tenant_id=uuid.UUID(data["t"]),
            provider=provider,
            nonce=data["n"],
            actor_id=data["a"],
            browser_session=uuid.UUID(browser) if browser else None,
        )
