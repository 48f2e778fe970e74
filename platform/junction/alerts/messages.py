"""What an alert says: which connection, what happened, what it blocks, where to fix it.

The same facts go out as text (email, Telegram) and as JSON (webhooks).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from junction.alerts.models import AlertKind
from junction.connections.models import ConnectionStatus

WHAT_HAPPENED = {
    ConnectionStatus.needs_reauth: "stopped working: its credentials were refused and it "
    "needs to be reconnected",
    ConnectionStatus.revoked: "was disconnected on the other side (the integration was "
    "removed there)",
    ConnectionStatus.expired: "stopped working: its credentials have expired",
    ConnectionStatus.error: "is failing: its checks keep getting errors",
    ConnectionStatus.expiring: "will stop working soon: its credentials expire",
    ConnectionStatus.healthy: "works again",
}

HEADLINE = {
    ConnectionStatus.needs_reauth: "stopped working",
    ConnectionStatus.revoked: "was disconnected",
    ConnectionStatus.expired: "expired",
    ConnectionStatus.error: "is failing",
    ConnectionStatus.expiring: "expires soon",
    ConnectionStatus.healthy: "works again",
}


@dataclass(frozen=True)
class ConnectionFacts:
    tenant_id: uuid.UUID
    tenant_slug: str
    tenant_name: str
    connection_id: uuid.UUID
    provider: str
    provider_title: str
    name: str
    account_ref: str
    status: ConnectionStatus
    expires_at: datetime | None
    # What the latest check found, in words.
    detail: str
    # Events waiting for this connection.
    paused_events: int
    fix_url: str


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    data: dict[str, Any]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def compose(kind: AlertKind, facts: ConnectionFacts) -> Composed:
    label = f"{facts.provider_title} connection “{facts.name}”"
    happened = WHAT_HAPPENED[facts.status]
    if facts.status is ConnectionStatus.expiring and facts.expires_at is not None:
        happened = f"{happened} on {_when(facts.expires_at)}"
    prefix = "Reminder: " if kind is AlertKind.reminder else ""
    subject = f"{prefix}{label} {HEADLINE[facts.status]}"
    lines = [
        f"Workspace: {facts.tenant_name} ({facts.tenant_slug})",
        f"Connection: {label}, account {facts.account_ref}",
        f"What happened: the connection {happened}.",
    ]
    if facts.detail:
        lines.append(f"Last check: {facts.detail}")
    if kind is AlertKind.recovered:
        if facts.paused_events:
            lines.append(
                f"The {facts.paused_events} events that waited for it are being processed now."
            )
        else:
            lines.append("Anything that waited for it is processed again by itself.")
    else:
        lines.append(
            f"It blocks: {facts.paused_events} events are paused until it works again; "
            "nothing is lost, they resume by themselves once it is fixed."
        )
        lines.append(f"Fix it here: {facts.fix_url}")
    return Composed(
        subject=subject,
        text="\n".join(lines),
        data={
            "type": f"connection.{kind.value}",
            "tenant": {"id": str(facts.tenant_id), "slug": facts.tenant_slug},
            "connection": {
                "id": str(facts.connection_id),
                "provider": facts.provider,
                "name": facts.name,
                "account": facts.account_ref,
                "status": facts.status.value,
                "expires_at": facts.expires_at.isoformat() if facts.expires_at else None,
            },
            "detail": facts.detail,
            "paused_events": facts.paused_events,
            "fix_url": facts.fix_url,
        },
    )


def compose_test(tenant_slug: str, tenant_name: str, channel_name: str) -> Composed:
    return Composed(
        subject=f"Test alert from Junction for {tenant_name}",
        text=(
            f"This is a test of the alert channel “{channel_name}” of the workspace "
            f"{tenant_name} ({tenant_slug}). When a connection stops working, its alerts "
            "arrive here."
        ),
        data={"type": "test", "tenant": {"slug": tenant_slug}, "channel": channel_name},
    )
