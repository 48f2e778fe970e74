"""The objects plugins hand to the core through the hooks in `hookspecs`.

Hooks are plain functions that return these; the asynchronous work lives in their
methods. Everything here is part of the public contract.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from junction.connections.credentials import ConnectionCredentials


# A title and description in other languages, by language code:
# `{"ru": {"title": "…", "description": "…"}}` (the English ones are `title` and
# `description` themselves). The web app shows the reader's language where given.
Translations = Mapping[str, Mapping[str, str]]


class NoConfig(BaseModel):
    """The config model of a plugin that takes no settings."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class PluginInfo:
    """How a plugin describes itself. `name` is what installations refer to."""

    name: str
    title: str
    version: str
    description: str = ""
    # An installation's settings; its JSON schema is the web app's form (with the hints
    # of `junction.plugins.config_schema`: labels in other languages, connections …).
    config_model: type[BaseModel] = NoConfig
    i18n: Translations = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One inbound HTTP delivery, as the intake read it."""

    body: bytes
    content_type: str
    # Header names are lower-case.
    headers: Mapping[str, str]
    # The body parsed as JSON or as form fields.
    payload: Any


@dataclass(frozen=True)
class SampleDelivery:
    """A delivery as the format's platform sends one, for trying an endpoint out."""

    body: bytes
    content_type: str


class Source(ABC):
    """A shop format: how to verify a delivery and what identifies it."""

    name: str
    title: str
    i18n: ClassVar[Translations] = {}
    # Where the format's deliveries carry a credential (an API key in a header or a
    # top-level body field): never stored with the event, so never shown again.
    secret_headers: frozenset[str] = frozenset()
    secret_fields: frozenset[str] = frozenset()

    @abstractmethod
    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        """True when the delivery carries a valid signature made with `signing_secret`.

        Called only for endpoints that have a signing secret.
        """

    @abstractmethod
    def idempotency_key(self, delivery: Delivery) -> str | None:
        """What identifies this delivery's order across repeats (usually the order id).

        Return None when the format has no such field; the core then uses a hash of the
        body.
        """

    def acknowledge(self, delivery: Delivery) -> str | None:
        """Why this delivery is a platform's check rather than an order (the ping sent
        when a webhook is created), or None for a real delivery (the default).

        Intake answers such a check 200 and stores nothing, before any signature check:
        platforms send it unsigned and only enable the webhook once it is answered.
        """
        return None

    def sample(self, order_id: str) -> SampleDelivery | None:
        """A representative delivery of an order numbered `order_id` (shown as the
        sample request, sent as the test order, used as the preview's sample), or None
        when the format has none (the default)."""
        return None


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str = ""
    # The outside system refused the credentials themselves (a 401), rather than failing.
    refused: bool = False


@dataclass(frozen=True)
class RefreshedCredentials:
    """What a successful refresh gives: the new secrets, their expiry, updated details."""

    secrets: Mapping[str, Any]
    expires_at: datetime | None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class NewConnection:
    """An outside account a tenant just connected, ready to be stored."""

    # The outside system's id of the account: connecting it again replaces the secrets.
    account_ref: str
    name: str
    secrets: Mapping[str, Any]
    details: Mapping[str, Any]
    expires_at: datetime | None


class AuthorizationError(Exception):
    """Connecting failed (refused consent, bad code, wrong host …); nothing was stored.
    The message tells the tenant what happened and what to do."""


class CredentialsRejected(Exception):
    """The outside system refused the credentials for good (revoked, expired refresh
    token): a person must reconnect. The message says so in the tenant's words."""


class ConnectionProvider(ABC):
    """A kind of outside system a tenant connects to (amoCRM, MobCash …)."""

    name: str
    title: str
    # Renew the credentials at least this often, used or not: for providers whose
    # refresh tokens die after a while unused (amoCRM's, after three months).
    keep_alive: timedelta | None = None
    # Connected through the provider's consent page (`authorization_url`).
    consent: bool = False
    # The ways a person can paste credentials instead (`connect_with_credentials`), one
    # model each, its title naming the way: the web app renders each as a form (with the
    # hints of `junction.plugins.config_schema`; a `Literal` field is sent as it is).
    credential_forms: tuple[type[BaseModel], ...] = ()

    def renewable(self, secrets: Mapping[str, Any]) -> bool:
        """Whether `refresh` can renew these credentials without a person (an OAuth
        grant can; a pasted long-lived token cannot, and is reported before it expires)."""
        return False

    @abstractmethod
    async def probe(self, secrets: Mapping[str, Any], details: Mapping[str, Any]) -> ProbeResult:
        """Make one cheap authenticated call to tell whether the credentials work."""

    async def refresh(
        self, secrets: Mapping[str, Any], details: Mapping[str, Any]
    ) -> RefreshedCredentials:
        """Renew the credentials. Junction calls it for one connection at a time across
        all processes and stores the result before anyone uses it; never retry inside.

        Raise `CredentialsRejected` when the outside system refuses for good.
        """
        raise CredentialsRejected(f"{self.title} credentials cannot be renewed automatically")

    def authorization_url(self, state: str) -> str:
        """Where to send the tenant's browser to consent; it comes back to
        `/connections/{name}/callback` with `state` unchanged."""
        raise AuthorizationError(f"{self.title} is not connected through a consent page")

    async def complete_authorization(self, params: Mapping[str, str]) -> NewConnection:
        """Finish a consent: `params` is the callback's query (state already verified).

        Raise `AuthorizationError` for a refusal or any failure; store nothing yourself.
        """
        raise AuthorizationError(f"{self.title} is not connected through a consent page")

    async def connect_with_credentials(self, fields: Mapping[str, Any]) -> NewConnection:
        """Connect with credentials the tenant pasted (a long-lived token …)."""
        raise AuthorizationError(f"{self.title} does not accept pasted credentials")

    def disconnected_account(self, params: Mapping[str, str]) -> str | None:
        """The `account_ref` the outside system says was disconnected, if `params` (its
        call to `/connections/{name}/disconnect`) carries a valid signature; else None."""
        return None


@dataclass(frozen=True)
class SandboxConfig:
    # The URL the sandbox is served at, as clients reach it.
    base_url: str
    # Demo mode: consent screens approve themselves.
    demo: bool = False
    # Junction's public base URL, for the redirect URIs the sandbox's integration knows.
    junction_url: str = "http://127.0.0.1:8000"


def _no_environment(_config: SandboxConfig) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Sandbox:
    """A local stand-in for an outside system, served by `junction sandbox <name>`."""

    name: str
    title: str
    # Builds the ASGI application serving the sandbox.
    create_app: Callable[[SandboxConfig], Any]
    # The connection provider it stands in for; the demo connects it by itself.
    provider: str | None = None
    # JUNCTION_* variables that point Junction's processes at the sandbox.
    environment: Callable[[SandboxConfig], dict[str, str]] = _no_environment


LogLevel = Literal["debug", "info", "warning", "error"]


@dataclass
class AttemptLog:
    """The readable log of one attempt, stored with it and shown to the tenant.

    Never put secrets in it.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, level: LogLevel, message: str, **data: Any) -> None:
        self.entries.append(
            {
                "at": datetime.now(UTC).isoformat(),
                "level": level,
                "message": message,
                "data": data,
            }
        )

    def info(self, message: str, **data: Any) -> None:
        self.add("info", message, **data)

    def warning(self, message: str, **data: Any) -> None:
        self.add("warning", message, **data)

    def error(self, message: str, **data: Any) -> None:
        self.add("error", message, **data)


class Checkpoint:
    """What earlier attempts already did outside Junction, kept on the event across
    attempts and replays, so a retry picks up where the last one stopped.

    Save right after each outside effect (a lead created …): a worker can die at any
    moment, and what is not saved is done again.
    """

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = dict(data or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    async def save(self, **values: Any) -> None:
        """Record progress (JSON values) now."""
        self.data.update(values)

    def remember(self, **values: Any) -> None:
        """Record values that are only worth keeping (they could be found again), written
        with the next `save` rather than on their own."""
        self.data.update(values)


class PluginServices(ABC):
    """What the core lends an integration while it processes a tenant's event."""

    # Shared Redis, for caches and limits; prefix keys with the plugin's name.
    redis: Redis

    @abstractmethod
    async def connection(
        self, provider: str, connection_id: uuid.UUID | None = None
    ) -> ConnectionCredentials:
        """The tenant's connection to `provider`: the one named, or its only one.

        Raises `PermanentError` when there is none (or several and none is named), and
        `NeedsReauth` when its credentials need a person (the event is paused).
        """

    async def save_checkpoints(self, saves: Sequence[tuple[Checkpoint, Mapping[str, Any]]]) -> None:
        """Record the progress of several events of a batch in one write."""
        for checkpoint, values in saves:
            await checkpoint.save(**values)


@dataclass(frozen=True)
class EventContext:
    """What an integration gets to process one event."""

    tenant_id: uuid.UUID
    event_id: uuid.UUID
    attempt: int
    payload: Any
    headers: Mapping[str, str]
    # The tenant's configuration of this plugin, an instance of its config model.
    config: BaseModel
    log: AttemptLog
    # The endpoint's source format: how to read the payload (`woocommerce` …).
    source_format: str = ""
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    services: PluginServices | None = None


@dataclass(frozen=True)
class Preview:
    """The requests an event would make: each `{"method", "path", "params", "json",
    "sent"}`, where `sent` is true for reads that were really made."""

    requests: list[dict[str, Any]]
    # Why processing would stop (a missing partner …), or None when it would go through.
    problem: str | None = None


@dataclass(frozen=True)
class Choice:
    """A value a configuration field may take, as the connected system has it."""

    value: str | int
    label: str
    # What the value is: a field's type (`numeric`, `date` …) or an order field's kind
    # (`text`, `number`, `date`), for editors that pair one with another.
    kind: str | None = None
    # The choice this one belongs to (a status's pipeline).
    parent: str | int | None = None
    # For a source value: the kinds of targets it may go into (None: any).
    fits: tuple[str, ...] | None = None
    # The heading it is listed under when one list mixes several (`lead`, `contact`).
    group: str | None = None


# What a batch gives back for one of its events: the result to store (a mapping or None)
# or the exception the event failed with, handled as if `process_event` had raised it.
EventOutcome = dict[str, Any] | None | Exception


class Integration(ABC):
    """What a plugin does with an event sent to it."""

    # Up to how many due events of one installation `process_batch` takes at once; 1 (the
    # default) means the plugin is only ever handed one event.
    max_batch_size: int = 1

    @abstractmethod
    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        """Process one event; the returned mapping is stored as the event's result.

        Called at least once per event: make it safe to call again for the same event.
        Raise `PermanentError` for what no retry can fix (it goes to the dead letters
        at once); any other exception is retried on the backoff schedule.
        """

    async def process_batch(self, events: Sequence[EventContext]) -> Sequence[EventOutcome]:
        """Process several due events of one installation together (2 to `max_batch_size`).

        Called instead of `process_event` when an installation has a backlog, so the
        plugin can use its target's batch endpoints. Return one outcome per event, in
        the order given: each event gets its own status, result and log. An exception
        raised from here is the outcome of every event in the batch.

        The default processes the events one after another through `process_event`.
        """
        outcomes: list[EventOutcome] = []
        for event in events:
            try:
                outcomes.append(await self.process_event(event))
            except Exception as exc:  # noqa: BLE001 - each event's failure is its outcome
                outcomes.append(exc)
        return outcomes

    async def preview(self, event: EventContext) -> Preview | None:
        """What processing `event` would send to the outside world, sending no write.

        Reads may be made for real (to find what exists); writes are only described.
        None (the default): the plugin offers no preview.
        """
        return None

    async def check_config(
        self, config: BaseModel, tenant_id: uuid.UUID, services: PluginServices
    ) -> list[str]:
        """What a configuration refers to that the outside system lacks (a field deleted
        from the CRM …), checked when the configuration is saved; each a sentence for the
        person saving it. The default finds nothing."""
        return []

    async def config_choices(
        self, tenant_id: uuid.UUID, services: PluginServices
    ) -> dict[str, list[Choice]]:
        """The values the configuration's fields may take, read from the connected
        systems now (pipelines, users, custom fields …), keyed by the field's dotted path
        (`pipeline_id`, `partner.contact_field`; for a mapping field, `<path>.key` and
        `<path>.value`); the web app offers them as lists to pick from, and as
        suggestions where every choice's label is its value (free text allowed). The
        default offers none."""
        return {}

    async def clear_cache(self, tenant_id: uuid.UUID, services: PluginServices) -> int:
        """Forget what the plugin remembers for the tenant (looked-up contacts …), so the
        next events look it up again; returns how many entries were dropped."""
        return 0


class PermanentError(Exception):
    """Processing cannot succeed by trying again; the message tells a person why."""


class OutcomeUnknown(Exception):
    """An outside effect was asked for and whether it happened cannot be known (a request
    that timed out after it was sent, to a system with no way to look it up).

    The event is parked as `needs_review` and never tried again by itself: doing it again
    could do it twice. The message says what to check; `review` carries what an operator
    needs to check it by hand (ids, amounts, times), stored as the event's result until a
    person resolves it.
    """

    def __init__(self, message: str, review: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.review = dict(review)
