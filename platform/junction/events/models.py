"""Events (one per accepted delivery) and the attempts made to process them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    text,
)
from sqlalchemy.orm import Mapped, QueryableAttribute, mapped_column, relationship

from junction.db.base import Base, IdMixin, JSONDocument, TenantScoped, utcnow
from junction.db.enums import enum_column

if TYPE_CHECKING:
    from junction.intake.models import InboundEndpoint


class EventStatus(StrEnum):
    received = "received"
    processing = "processing"
    retrying = "retrying"
    done = "done"
    failed = "failed"
    paused = "paused"
    # An outside effect (money moved …) may or may not have happened: never tried again by
    # itself; a person checks and resolves it.
    needs_review = "needs_review"


# States a worker may pick an event up from once its time has come.
DUE_STATUSES = (EventStatus.received, EventStatus.retrying)


def is_due(status: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
    """`status` is one of the due statuses, written into the SQL itself: a prepared
    statement with them as parameters could not use the partial index of due events."""
    return status.in_(
        bindparam(None, [s.value for s in DUE_STATUSES], expanding=True, literal_execute=True)
    )


class PauseCause(StrEnum):
    """Why a paused event waits: always something outside the event itself."""

    # A connection's credentials need a person (`paused_connection_id` says which).
    connection = "connection"
    # The workspace is suspended.
    tenant_suspended = "tenant_suspended"
    # The plan's events for this billing period are used up.
    quota = "quota"
    # The subscription is unpaid past its grace period, or the plan excludes the plugin.
    billing = "billing"


class AttemptOutcome(StrEnum):
    done = "done"
    retrying = "retrying"
    failed = "failed"
    # Stopped by a cause outside the event (credentials need a person …).
    paused = "paused"
    # Its outside effect's outcome is unknown (`OutcomeUnknown`).
    needs_review = "needs_review"
    # Its worker was stopped (SIGTERM) before it finished; not the event's failure.
    interrupted = "interrupted"


class Event(IdMixin, TenantScoped, Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_events_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_events_tenant_id_received_at", "tenant_id", "received_at"),
        Index("ix_events_tenant_id_replay_id", "tenant_id", "replay_id"),
        # A tenant's due events, oldest first: what a batch takes and what follows it.
        # Partial, so a backlog costs each claim its own rows only, never a scan of it.
        Index(
            "ix_events_tenant_due",
            "tenant_id",
            "next_attempt_at",
            postgresql_where=text("status IN ('received', 'retrying')"),
            sqlite_where=text("status IN ('received', 'retrying')"),
        ),
    )

    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inbound_endpoints.id", ondelete="SET NULL"), index=True
    )
    endpoint: Mapped[InboundEndpoint | None] = relationship(lazy="raise")
    idempotency_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="")
    payload: Mapped[Any] = mapped_column(JSONDocument)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus), default=EventStatus.received
    )
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # While `processing`, the worker owns the event until this time; after it, the
    # sweeper hands the event to another worker (the first one died).
    locked_until: Mapped[datetime | None]
    # Which claim holds the event while `processing`: the events a worker took together
    # (a batch) share it, and only that claim may record their outcome.
    claim_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    pause_cause: Mapped[PauseCause | None] = mapped_column(enum_column(PauseCause))
    # While `paused`: the connection whose credentials need a person; when it is healthy
    # again the sweeper resumes the event.
    paused_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    result: Mapped[dict[str, Any] | None]
    # What the plugin already did outside (a lead created …), kept across attempts and
    # replays so that nothing is done twice.
    checkpoint: Mapped[dict[str, Any] | None]
    # When the event was counted against its tenant's quota: once, on its first
    # processing; retries and replays are not counted again.
    billed_at: Mapped[datetime | None]
    # The replay that last ran it again, so the replay's progress can be followed.
    replay_id: Mapped[uuid.UUID | None]
    # When the payload, headers and result were dropped under the retention policy.
    payload_purged_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EventAttempt(IdMixin, TenantScoped, Base):
    __tablename__ = "event_attempts"
    __table_args__ = (UniqueConstraint("event_id", "number"),)

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[Event] = relationship(lazy="raise")
    number: Mapped[int]
    plugin: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[AttemptOutcome | None] = mapped_column(enum_column(AttemptOutcome))
    error: Mapped[str | None] = mapped_column(Text)
    # One entry per step the plugin logged: {"at", "level", "message", "data"}.
    log: Mapped[list[Any]] = mapped_column(default=list)
