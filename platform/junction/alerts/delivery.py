"""Delivering alerts: each delivery tried on its own schedule until it is sent or given up.

A channel that is down (an SMTP server restarting, a webhook answering 500) gets the
alert later; one that keeps failing is given up after about a day, and the failure is
kept with the alert for the tenant to see.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import delete, select, update

from junction.alerts.channels import (
    ChannelError,
    Message,
    send_email,
    send_telegram,
    send_webhook,
)
from junction.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertKind,
    ChannelKind,
    DeliveryStatus,
)
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.outbound import http_client
from junction.runtime import Runtime

log = logging.getLogger(__name__)

# Delays before the second, third … attempt; after the last one the delivery has failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=16),
)
# A delivery being sent is held this long, so that a second sender leaves it alone.
LEASE = timedelta(minutes=2)
BATCH = 200
CONCURRENCY = 10
# How long one cron run (every minute) keeps delivering.
RUN_SECONDS = 45.0
# Alerts (and their deliveries) are kept this long for the tenant to look back on.
HISTORY = timedelta(days=90)


async def deliver_due(runtime: Runtime, *, budget: float = RUN_SECONDS) -> int:
    """The cron's second half: every delivery that is due, a batch at a time for at most
    `budget` seconds; returns how many were sent."""
    deadline = time.monotonic() + budget
    sent = 0
    async with http_client(follow_redirects=False) as http:
        while time.monotonic() < deadline:
            now = utcnow()
            async with runtime.sessionmaker() as session:
                with cross_tenant(session, "alerts: deliveries due"):
                    due = (
                        await session.execute(
                            select(AlertDelivery.tenant_id, AlertDelivery.id)
                            .where(
                                AlertDelivery.status == DeliveryStatus.pending,
                                AlertDelivery.next_attempt_at <= now,
                            )
                            .order_by(AlertDelivery.next_attempt_at)
                            .limit(BATCH)
                        )
                    ).all()
            if not due:
                break
            sent += await _deliver_batch(runtime, http, due)
    return sent


async def _deliver_batch(
    runtime: Runtime, http: httpx.AsyncClient, due: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> int:
    claimed = [c for c in [await _claim(runtime, t, d) for t, d in due] if c is not None]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def attempt(claim: _Claimed) -> str | None:
        async with limit:
            return await _attempt(runtime, http, claim)

    # Only the sending runs side by side; the database work before and after is brief
    # and done one delivery at a time.
    errors = await asyncio.gather(*(attempt(claim) for claim in claimed))
    statuses = [await _record(runtime, c, e) for c, e in zip(claimed, errors, strict=True)]
    return statuses.count(DeliveryStatus.sent)


async def deliver(
    runtime: Runtime, http: httpx.AsyncClient, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryStatus | None:
    """Try one delivery now; its status afterwards (None if someone else holds it)."""
    claim = await _claim(runtime, tenant_id, delivery_id)
    if claim is None:
        return None
    return await _record(runtime, claim, await _attempt(runtime, http, claim))


@dataclass(frozen=True)
class _Claimed:
    delivery: AlertDelivery
    alert: Alert
    channel: AlertChannel | None


async def _claim(runtime: Runtime, tenant_id: uuid.UUID, delivery_id: uuid.UUID) -> _Claimed | None:
    """Hold a pending delivery for this sender (None: gone, settled or held elsewhere)."""
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        delivery = await session.scalar(
            select(AlertDelivery).where(AlertDelivery.id == delivery_id)
        )
        if delivery is None or delivery.status is not DeliveryStatus.pending:
            return None
        held = await session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.status == DeliveryStatus.pending,
                AlertDelivery.next_attempt_at == delivery.next_attempt_at,
            )
            .values(next_attempt_at=utcnow() + LEASE)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        if held.rowcount != 1:  # type: ignore[attr-defined]
            return None
        alert = await session.scalar(select(Alert).where(Alert.id == delivery.alert_id))
        channel = (
            await session.scalar(select(AlertChannel).where(AlertChannel.id == delivery.channel_id))
            if delivery.channel_id is not None
            else None
        )
    assert alert is not None
    return _Claimed(delivery, alert, channel)


async def _attempt(runtime: Runtime, http: httpx.AsyncClient, claim: _Claimed) -> str | None:
    """Send it; what went wrong, in words, or None."""
    alert = claim.alert
    message = Message(alert.subject, alert.text, alert.data, str(claim.delivery.id))
    try:
        await _send(runtime, http, claim.delivery, claim.channel, message)
    except ChannelError as exc:
        return str(exc)
    except Exception as exc:  # a bug must not keep the delivery held for ever
        log.exception("alert delivery %s failed unexpectedly", claim.delivery.id)
        return f"could not be sent ({type(exc).__name__})"
    return None


async def _record(runtime: Runtime, claim: _Claimed, error: str | None) -> DeliveryStatus:
    delivery = claim.delivery
    attempts = delivery.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "last_error": error}
    status = DeliveryStatus.pending
    if error is None:
        status = DeliveryStatus.sent
        values |= {"status": status, "sent_at": utcnow()}
    elif attempts > len(RETRY_DELAYS) or claim.alert.kind is AlertKind.test:
        # A test is answered at once, right or wrong; it is not tried again later.
        status = DeliveryStatus.failed
        values |= {"status": status}
    else:
        values |= {"next_attempt_at": utcnow() + RETRY_DELAYS[attempts - 1]}
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, delivery.tenant_id)
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    if error is not None:
        log.warning("alert delivery %s to %s: %s", delivery.id, delivery.kind.value, error)
    return status


async def _send(
    runtime: Runtime,
    http: httpx.AsyncClient,
    delivery: AlertDelivery,
    channel: AlertChannel | None,
    message: Message,
) -> None:
    if channel is None:
        # No channel set up: the delivery goes to one of the owners, by email.
        await send_email(runtime.mailer, [delivery.target], message)
        return
    settings = runtime.settings
    secret = runtime.secretbox.decrypt(channel.secret_encrypted) if channel.secret_encrypted else ""
    if channel.kind is ChannelKind.email:
        await send_email(runtime.mailer, [str(r) for r in channel.recipients], message)
    elif channel.kind is ChannelKind.telegram:
        await send_telegram(
            http,
            str(settings.telegram_api_url),
            secret or settings.telegram_bot_token.get_secret_value(),
            channel.target,
            message,
        )
    else:
        await send_webhook(
            http,
            channel.target,
            secret,
            message,
            private_allowed=settings.alert_webhooks_to_private_hosts,
        )


async def purge_old_alerts(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "alert history retention"):
            result = await session.execute(
                delete(Alert).where(Alert.created_at < utcnow() - HISTORY)
            )
        await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
