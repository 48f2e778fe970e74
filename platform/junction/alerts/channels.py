"""Sending one alert through one channel: email, a Telegram chat, a signed webhook.

Every failure becomes a `ChannelError` whose message says what went wrong in words a
tenant can act on, and never carries a secret: a Telegram bot token sits in the Bot
API's URL, so no transport error's text is passed on as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from junction.accounts.mail import Mailer, MailError

TIMEOUT = httpx.Timeout(10.0)
SIGNATURE_HEADER = "Junction-Signature"


class ChannelError(Exception):
    """The channel did not take the alert; the message says why."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    # For webhooks: the alert as JSON.
    data: dict[str, Any]
    # Sent with webhooks so receivers can drop a delivery they already have.
    delivery_id: str


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Junction-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256>` of
    `"<t>." + body`, so a receiver can check both origin and freshness."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def check_webhook_url(url: str, *, private_allowed: bool) -> str:
    """The URL if alerts may be sent there; `ChannelError` says why not.

    Webhooks are called from inside the installation's network: unless the operator
    allows it, one that resolves to a loopback, private or link-local address is refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ChannelError("a webhook URL must be an http:// or https:// address with a host")
    if private_allowed:
        return url
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    except OSError:
        raise ChannelError(f"the webhook's host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ChannelError(
                f"the webhook's host {parts.hostname!r} is a private or local address"
            )
    return url


async def send_email(mailer: Mailer, recipients: list[str], message: Message) -> None:
    try:
        for recipient in recipients:
            await mailer.send(recipient, message.subject, message.text)
    except MailError as exc:
        raise ChannelError(str(exc)) from None


async def send_telegram(
    http: httpx.AsyncClient, api_url: str, bot_token: str, chat_id: str, message: Message
) -> None:
    if not bot_token:
        raise ChannelError("no Telegram bot is configured for this channel or this installation")
    try:
        response = await http.post(
            f"{api_url.rstrip('/')}/bot{bot_token}/sendMessage",
            json={
                "chat_id": chat_id,
                "text": f"{message.subject}\n\n{message.text}",
                "link_preview_options": {"is_disabled": True},
            },
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise ChannelError(f"Telegram did not answer ({type(exc).__name__})") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not answer.get("ok"):
        description = str(answer.get("description") or f"HTTP {response.status_code}")
        raise ChannelError(f"Telegram refused the message: {description[:200]}")


async def send_webhook(
    http: httpx.AsyncClient,
    url: str,
    secret: str,
    message: Message,
    *,
    private_allowed: bool,
) -> None:
    await check_webhook_url(url, private_allowed=private_allowed)
    body = json.dumps(message.data, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Junction-Alerts",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        "Junction-Delivery": message.delivery_id,
    }
    try:
        response = await http.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise ChannelError(f"the webhook did not answer ({type(exc).__name__})") from None
    if not response.is_success:
        raise ChannelError(f"the webhook answered HTTP {response.status_code}")
