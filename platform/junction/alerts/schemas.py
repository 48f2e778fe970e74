"""What the alerts API takes and returns: never a bot token or a signing secret, except
a webhook's secret once, when it is made."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from junction.alerts.models import AlertChannel, AlertKind, ChannelKind, DeliveryStatus

ChatId = Annotated[str, Field(pattern=r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")]
BotToken = Annotated[str, Field(pattern=r"^\d{1,20}:[A-Za-z0-9_-]{30,60}$")]
Recipients = Annotated[list[EmailStr], Field(min_length=1, max_length=20)]
WebhookUrl = Annotated[str, Field(min_length=8, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class EmailChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["email"]
    name: Name
    recipients: Recipients


class TelegramChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["telegram"]
    name: Name
    # A chat's numeric id (groups are negative) or a public channel's @name.
    chat_id: ChatId
    # The workspace's own bot; without one, the installation's bot sends.
    bot_token: BotToken | None = None


class WebhookChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook"]
    name: Name
    url: WebhookUrl


ChannelIn = Annotated[
    EmailChannelIn | TelegramChannelIn | WebhookChannelIn, Field(discriminator="kind")
]


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    enabled: bool | None = None
    recipients: Recipients | None = None
    chat_id: ChatId | None = None
    bot_token: BotToken | None = None
    url: WebhookUrl | None = None


class ChannelOut(BaseModel):
    id: uuid.UUID
    kind: ChannelKind
    name: str
    enabled: bool
    recipients: list[str]
    chat_id: str | None
    url: str | None
    # Whether the channel has its own Telegram bot (the token itself is never shown).
    own_bot: bool
    created_at: datetime

    @classmethod
    def of(cls, channel: AlertChannel) -> ChannelOut:
        return cls(
            id=channel.id,
            kind=channel.kind,
            name=channel.name,
            enabled=channel.enabled,
            recipients=[str(r) for r in channel.recipients],
            chat_id=channel.target if channel.kind is ChannelKind.telegram else None,
            url=channel.target if channel.kind is ChannelKind.webhook else None,
            own_bot=channel.kind is ChannelKind.telegram and bool(channel.secret_encrypted),
            created_at=channel.created_at,
        )


class ChannelCreated(ChannelOut):
    # Webhooks: the secret that signs every delivery, shown this once.
    signing_secret: str | None = None


class SigningSecret(BaseModel):
    signing_secret: str


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How often a connection that stays broken is brought up again.
    reminder_hours: int = Field(ge=1, le=24 * 7)


class SettingsOut(BaseModel):
    reminder_hours: int


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel_id: uuid.UUID | None
    kind: ChannelKind
    target: str
    status: DeliveryStatus
    attempts: int
    sent_at: datetime | None
    next_attempt_at: datetime
    last_error: str | None


class AlertOut(BaseModel):
    id: uuid.UUID
    kind: AlertKind
    connection_id: uuid.UUID | None
    created_at: datetime
    subject: str
    text: str
    deliveries: list[DeliveryOut]
