"""`/api/alerts`: where a workspace's connection alerts go, how often, and what was sent."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.alerts.channels import ChannelError, check_webhook_url, new_signing_secret
from junction.alerts.delivery import deliver
from junction.alerts.messages import compose_test
from junction.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertKind,
    AlertSettings,
    ChannelKind,
    DeliveryStatus,
)
from junction.alerts.raising import DEFAULT_REMINDER, describe
from junction.alerts.schemas import (
    AlertOut,
    ChannelCreated,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    EmailChannelIn,
    SettingsIn,
    SettingsOut,
    SigningSecret,
    TelegramChannelIn,
)
from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.db.base import utcnow
from junction.outbound import http_client
from junction.runtime import Runtime
from junction.tenancy.models import Tenant

router = APIRouter(tags=["alerts"])


async def _channel(session: AsyncSession, channel_id: uuid.UUID) -> AlertChannel:
    channel = await session.scalar(select(AlertChannel).where(AlertChannel.id == channel_id))
    if channel is None:
        raise ApiError(404, "not_found", "no such alert channel")
    return channel


async def _webhook_url(runtime: Runtime, url: str) -> str:
    try:
        return await check_webhook_url(
            url, private_allowed=runtime.settings.alert_webhooks_to_private_hosts
        )
    except ChannelError as exc:
        raise ApiError(422, "invalid_url", str(exc), field="url") from None


def _telegram_possible(runtime: Runtime, bot_token: str | None) -> None:
    if not bot_token and not runtime.settings.telegram_bot_token.get_secret_value():
        raise ApiError(
            422,
            "no_telegram_bot",
            "this installation has no Telegram bot: give the channel your own bot_token",
            field="bot_token",
        )


@router.get("/api/alerts/channels", operation_id="alerts-channels")
async def list_channels(caller: CallerDep, session: SessionDep) -> list[ChannelOut]:
    """Where alerts go. With none enabled, the workspace's owners get them by email."""
    rows = await session.scalars(select(AlertChannel).order_by(AlertChannel.created_at))
    return [ChannelOut.of(channel) for channel in rows]


@router.post("/api/alerts/channels", status_code=201, operation_id="alerts-channel-create")
async def create_channel(
    body: ChannelIn, caller: ManagerDep, runtime: RuntimeDep, session: SessionDep
) -> ChannelCreated:
    """Add a channel. A webhook's signing secret is in this answer only."""
    channel = AlertChannel(
        id=uuid.uuid4(),
        tenant_id=caller.tenant_id,
        kind=ChannelKind(body.kind),
        name=body.name,
        created_at=utcnow(),
    )
    signing_secret: str | None = None
    if isinstance(body, EmailChannelIn):
        channel.recipients = [str(address) for address in body.recipients]
    elif isinstance(body, TelegramChannelIn):
        _telegram_possible(runtime, body.bot_token)
        channel.target = body.chat_id
        if body.bot_token:
            channel.secret_encrypted = runtime.secretbox.encrypt(body.bot_token)
    else:
        channel.target = await _webhook_url(runtime, body.url)
        signing_secret = new_signing_secret()
        channel.secret_encrypted = runtime.secretbox.encrypt(signing_secret)
    session.add(channel)
    caller.record(
        session,
        "alert_channel.created",
        "alert_channel",
        channel.id,
        {"kind": {"from": None, "to": channel.kind.value}, "name": {"from": None, "to": body.name}},
    )
    await session.commit()
    return ChannelCreated(**ChannelOut.of(channel).model_dump(), signing_secret=signing_secret)


@router.patch("/api/alerts/channels/{channel_id}", operation_id="alerts-channel-update")
async def update_channel(
    channel_id: uuid.UUID,
    body: ChannelPatch,
    caller: ManagerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ChannelOut:
    channel = await _channel(session, channel_id)
    given = body.model_dump(exclude_unset=True)
    allowed = {"name", "enabled"} | {
        ChannelKind.email: {"recipients"},
        ChannelKind.telegram: {"chat_id", "bot_token"},
        ChannelKind.webhook: {"url"},
    }[channel.kind]
    for field in given:
        if field not in allowed:
            raise ApiError(
                422, "invalid_field", f"a {channel.kind.value} channel has no {field}", field=field
            )
    diff: dict[str, Any] = {}
    if body.name is not None and body.name != channel.name:
        diff["name"] = {"from": channel.name, "to": body.name}
        channel.name = body.name
    if body.enabled is not None and body.enabled != channel.enabled:
        diff["enabled"] = {"from": channel.enabled, "to": body.enabled}
        channel.enabled = body.enabled
    if body.recipients is not None:
        recipients = [str(address) for address in body.recipients]
        diff["recipients"] = {"from": channel.recipients, "to": recipients}
        channel.recipients = recipients
    if body.chat_id is not None:
        diff["chat_id"] = {"from": channel.target, "to": body.chat_id}
        channel.target = body.chat_id
    if "bot_token" in given:
        _telegram_possible(runtime, body.bot_token)
        channel.secret_encrypted = (
            runtime.secretbox.encrypt(body.bot_token) if body.bot_token else None
        )
        diff["bot_token"] = {"from": "…", "to": "changed"}
    if body.url is not None:
        url = await _webhook_url(runtime, body.url)
        diff["url"] = {"from": channel.target, "to": url}
        channel.target = url
    if diff:
        caller.record(session, "alert_channel.updated", "alert_channel", channel.id, diff)
    await session.commit()
    return ChannelOut.of(channel)


@router.delete(
    "/api/alerts/channels/{channel_id}", status_code=204, operation_id="alerts-channel-delete"
)
async def delete_channel(
    channel_id: uuid.UUID, caller: ManagerDep, session: SessionDep
) -> Response:
    channel = await _channel(session, channel_id)
    # What was still on its way there has nowhere to go now; its record stays.
    await session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.channel_id == channel_id,
            AlertDelivery.status == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.failed, last_error="the channel was deleted")
        .execution_options(synchronize_session=False)
    )
    caller.record(
        session,
        "alert_channel.deleted",
        "alert_channel",
        channel.id,
        {"name": {"from": channel.name, "to": None}},
    )
    await session.delete(channel)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/api/alerts/channels/{channel_id}/rotate-secret", operation_id="alerts-channel-rotate"
)
async def rotate_secret(
    channel_id: uuid.UUID, caller: ManagerDep, runtime: RuntimeDep, session: SessionDep
) -> SigningSecret:
    """A new signing secret for a webhook channel; the old one stops signing at once."""
    channel = await _channel(session, channel_id)
    if channel.kind is not ChannelKind.webhook:
        raise ApiError(422, "not_a_webhook", "only webhook channels have a signing secret")
    secret = new_signing_secret()
    channel.secret_encrypted = runtime.secretbox.encrypt(secret)
    caller.record(session, "alert_channel.secret_rotated", "alert_channel", channel.id, {})
    await session.commit()
    return SigningSecret(signing_secret=secret)


@router.post("/api/alerts/channels/{channel_id}/test", operation_id="alerts-channel-test")
async def test_channel(
    channel_id: uuid.UUID, caller: ManagerDep, runtime: RuntimeDep, session: SessionDep
) -> DeliveryOut:
    """Send a test alert through the channel now; the answer says whether it arrived."""
    channel = await _channel(session, channel_id)
    tenant = await session.get(Tenant, caller.tenant_id)
    assert tenant is not None
    composed = compose_test(tenant.slug, tenant.name, channel.name)
    alert = Alert(
        id=uuid.uuid4(),
        tenant_id=caller.tenant_id,
        kind=AlertKind.test,
        created_at=utcnow(),
        subject=composed.subject,
        text=composed.text,
        data=composed.data,
    )
    delivery = AlertDelivery(
        id=uuid.uuid4(),
        tenant_id=caller.tenant_id,
        alert_id=alert.id,
        channel_id=channel.id,
        kind=channel.kind,
        target=describe(channel),
        next_attempt_at=alert.created_at,
    )
    session.add_all([alert, delivery])
    await session.commit()
    async with http_client(follow_redirects=False) as http:
        await deliver(runtime, http, caller.tenant_id, delivery.id)
    await session.refresh(delivery)
    return DeliveryOut.model_validate(delivery)


@router.get("/api/alerts/settings", operation_id="alerts-settings")
async def get_settings(caller: CallerDep, session: SessionDep) -> SettingsOut:
    settings = await session.get(AlertSettings, caller.tenant_id)
    hours = settings.reminder_hours if settings else int(DEFAULT_REMINDER.total_seconds() // 3600)
    return SettingsOut(reminder_hours=hours)


@router.put("/api/alerts/settings", operation_id="alerts-settings-update")
async def put_settings(body: SettingsIn, caller: ManagerDep, session: SessionDep) -> SettingsOut:
    settings = await session.get(AlertSettings, caller.tenant_id)
    before = settings.reminder_hours if settings else None
    if settings is None:
        settings = AlertSettings(tenant_id=caller.tenant_id)
        session.add(settings)
    settings.reminder_hours = body.reminder_hours
    if before != body.reminder_hours:
        caller.record(
            session,
            "alert_settings.updated",
            "alert_settings",
            caller.tenant_id,
            {"reminder_hours": {"from": before, "to": body.reminder_hours}},
        )
    await session.commit()
    return SettingsOut(reminder_hours=settings.reminder_hours)


@router.get("/api/alerts", operation_id="alerts-list")
async def list_alerts(
    caller: CallerDep,
    session: SessionDep,
    connection_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertOut]:
    """Alerts sent, newest first, each with where it went and whether it arrived."""
    query = select(Alert).order_by(Alert.created_at.desc()).limit(limit)
    if connection_id is not None:
        query = query.where(Alert.connection_id == connection_id)
    alerts = list(await session.scalars(query))
    deliveries: dict[uuid.UUID, list[DeliveryOut]] = {alert.id: [] for alert in alerts}
    if alerts:
        for row in await session.scalars(
            select(AlertDelivery).where(AlertDelivery.alert_id.in_(list(deliveries)))
        ):
            deliveries[row.alert_id].append(DeliveryOut.model_validate(row))
    return [
        AlertOut(
            id=alert.id,
            kind=alert.kind,
            connection_id=alert.connection_id,
            created_at=alert.created_at,
            subject=alert.subject,
            text=alert.text,
            deliveries=deliveries[alert.id],
        )
        for alert in alerts
    ]
