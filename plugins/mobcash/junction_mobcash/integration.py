"""Deposits: an event asks to top a player up from the tenant's cash desk.

Money moves at most once. Before the deposit is sent, the event's checkpoint records
that it is on its way; once MobCash answers, that it is done. A retry or a replay that
finds it done sends nothing. One that finds it on its way (the answer never came: a
timeout after sending) cannot know whether the player was topped up, so the event waits
for a person (`needs_review`) with everything needed to check it in MobCash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from junction.connections.credentials import Credentials
from junction.outbound import http_client
from junction.plugins.interfaces import (
    Delivery,
    EventContext,
    Integration,
    OutcomeUnknown,
    PermanentError,
    Source,
    Translations,
)
from junction_mobcash.api import (
    INSUFFICIENT_BALANCE,
    UNKNOWN_PAYER,
    MobCashApi,
    MobCashError,
    MobCashUnauthorized,
    MobCashUnreachable,
)
from junction_mobcash.provider import MobCashProvider, session_of

SIGNATURE_HEADER = "x-signature"


class DepositConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer_field: str = Field(default="payer_id", min_length=1, max_length=100)
    amount_field: str = Field(default="amount", min_length=1, max_length=100)
    request_field: str = Field(
        default="request_id",
        min_length=1,
        max_length=100,
        description="The caller's id of the request: the same id is never deposited twice.",
    )
    max_amount: Decimal | None = Field(
        default=None, gt=0, description="Refuse deposits above this amount."
    )
    connection_id: uuid.UUID | None = Field(
        default=None, description="Which MobCash connection, when the workspace has several."
    )


class DepositSource(Source):
    """A deposit request as JSON; the request id identifies it across repeats. Signature:
    hex HMAC-SHA256 of the body in X-Signature."""

    name = "mobcash-deposit"
    title = "MobCash deposit request (JSON)"
    i18n: ClassVar[Translations] = {"ru": {"title": "Запрос на пополнение MobCash (JSON)"}}

    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        given = delivery.headers.get(SIGNATURE_HEADER, "")
        expected = hmac.new(signing_secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.lower(), expected)

    def idempotency_key(self, delivery: Delivery) -> str | None:
        try:
            body = json.loads(delivery.body)
        except ValueError:
            return None
        request_id = body.get("request_id") if isinstance(body, dict) else None
        return f"deposit:{request_id}" if request_id not in (None, "") else None


def _field(payload: Any, name: str) -> Any:
    value = payload.get(name) if isinstance(payload, dict) else None
    if value in (None, ""):
        raise PermanentError(f"the request has no {name!r}")
    return value


class DepositIntegration(Integration):
    def __init__(self, provider: MobCashProvider) -> None:
        self._provider = provider

    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        config = event.config
        assert isinstance(config, DepositConfig)
        payer_id = str(_field(event.payload, config.payer_field))
        request_id = str(_field(event.payload, config.request_field))
        try:
            amount = Decimal(str(_field(event.payload, config.amount_field)))
        except InvalidOperation:
            raise PermanentError(f"{config.amount_field!r} is not a number") from None
        if not amount.is_finite() or amount <= 0:
            raise PermanentError(f"{config.amount_field!r} must be more than 0, not {amount}")
        if config.max_amount is not None and amount > config.max_amount:
            raise PermanentError(f"{amount} is above the configured maximum {config.max_amount}")

        recorded = event.checkpoint.get("deposit") or {}
        if recorded.get("state") == "done":
            event.log.info("already deposited: nothing is sent again", **recorded)
            return dict(recorded["result"])
        if recorded.get("state") == "sent":
            raise self._unknown(
                recorded, "an earlier attempt sent it and never learned the outcome"
            )

        assert event.services is not None
        credentials = await event.services.connection("mobcash", config.connection_id)
        current = await credentials.current()
        try:
            return await self._deposit(event, current, request_id, payer_id, amount)
        except MobCashUnauthorized:
            # Refused before anything moved: renew the credentials the refused call used
            # (unless another process already has; a pasted token pauses the event until
            # someone pastes a new one) and try once more.
            event.log.warning("MobCash refused the session; renewing it")
            current = await credentials.refresh(current.version)
            return await self._deposit(event, current, request_id, payer_id, amount)

    async def _deposit(
        self,
        event: EventContext,
        current: Credentials,
        request_id: str,
        payer_id: str,
        amount: Decimal,
    ) -> dict[str, Any]:
        session = session_of(current.secrets, current.details)
        async with http_client() as http:
            api: MobCashApi = self._provider.api(current.details, http)
            try:
                nickname = await api.payer_nickname(session, payer_id)
            except MobCashError as exc:
                if exc.code == UNKNOWN_PAYER:
                    raise PermanentError(f"MobCash knows no player {payer_id!r}") from None
                raise
            event.log.info("player checked", payer_id=payer_id, nickname=nickname)
            on_its_way = {
                "state": "sent",
                "request_id": request_id,
                "payer_id": payer_id,
                "nickname": nickname,
                "amount": str(amount),
                "location": session.location,
                "cashbox_code": current.details.get("cashbox_code"),
                "sent_at": datetime.now(UTC).isoformat(),
            }
            await event.checkpoint.save(deposit=on_its_way)
            try:
                answer = await api.deposit(session, payer_id, amount)
            except MobCashUnreachable as exc:
                if exc.sent:
                    raise self._unknown(on_its_way, str(exc)) from None
                await event.checkpoint.save(deposit=None)
                raise
            except MobCashError as exc:
                # MobCash answered: nothing moved, so trying again is safe.
                await event.checkpoint.save(deposit=None)
                if exc.code == INSUFFICIENT_BALANCE:
                    raise RuntimeError(
                        "the cash desk's balance is too low for this deposit; it is tried "
                        "again later (top the cash desk up)"
                    ) from None
                if exc.code == UNKNOWN_PAYER:
                    raise PermanentError(f"MobCash knows no player {payer_id!r}") from None
                if isinstance(exc, MobCashUnauthorized):
                    raise
                raise PermanentError(f"MobCash refused the deposit: {exc}") from None
        result = {
            "request_id": request_id,
            "payer_id": payer_id,
            "nickname": nickname,
            "amount": str(amount),
            "operation_id": answer.get("operationID"),
        }
        await event.checkpoint.save(deposit={"state": "done", "result": result})
        event.log.info("deposited", **result)
        return result

    @staticmethod
    def _unknown(recorded: dict[str, Any], why: str) -> OutcomeUnknown:
        return OutcomeUnknown(
            f"the deposit of {recorded.get('amount')} to player {recorded.get('payer_id')} "
            f"may or may not have been made ({why}): check the player's balance and the cash "
            "desk's operations in MobCash, then resolve the event",
            {key: value for key, value in recorded.items() if key != "state"},
        )
