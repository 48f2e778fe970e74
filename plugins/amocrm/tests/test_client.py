"""The amoCRM client against the sandbox, over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from junction.plugins.interfaces import AttemptLog
from junction_amocrm.client import AmoClient
from junction_amocrm.errors import (
    AmoBatchTooLarge,
    AmoForbidden,
    AmoPaymentRequired,
    AmoUnauthorized,
    AmoUncertainWrite,
    AmoValidationError,
)
from junction_amocrm.ratelimit import AccountRateLimiter


class IssuedTokens:
    """Tokens issued by the sandbox's inspection API; a refresh asks it for new ones."""

    def __init__(self, sandbox: httpx.Client, account_id: int) -> None:
        self.sandbox = sandbox
        self.account_id = account_id
        self.token = self._issue()
        self.refreshes = 0

    def _issue(self) -> str:
        body = self.sandbox.post(f"/_sandbox/accounts/{self.account_id}/tokens", json={}).json()
        token: str = body["access_token"]
        return token

    async def access_token(self) -> str:
        return self.token

    async def after_unauthorized(self, rejected: str) -> str:
        self.refreshes += 1
        self.token = self._issue()
        return self.token


class NoLimit:
    """No budget at all: only for tests that must make the sandbox answer 429 or 403,
    which the real, Redis-backed limiter exists to prevent."""

    async def acquire(self) -> None:
        return None


@pytest.fixture
def tokens(sandbox: httpx.Client, account_id: int) -> IssuedTokens:
    return IssuedTokens(sandbox, account_id)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def client(
    sandbox_url: str, tokens: IssuedTokens, redis: Redis, account_id: int
) -> AsyncIterator[AmoClient]:
    limiter = AccountRateLimiter(redis, f"test-{uuid.uuid4().hex}")
    async with AmoClient(sandbox_url, tokens, limiter, log=AttemptLog()) as amo:
        yield amo


def _seed_contact(
    sandbox: httpx.Client, account_id: int, name: str, partner: str | None
) -> dict[str, Any]:
    fields = sandbox.get(f"/_sandbox/accounts/{account_id}").json()["contact_fields"]
    partner_field = next(f for f in fields if f["name"] == "Partner ID")
    values = (
        [{"field_id": partner_field["id"], "values": [{"value": partner}]}] if partner else None
    )
    body: dict[str, Any] = sandbox.post(
        f"/_sandbox/accounts/{account_id}/contacts",
        json={"name": name, "custom_fields_values": values},
    ).json()
    return body


@pytest.fixture
def restore_options(sandbox: httpx.Client) -> Iterator[None]:
    yield
    sandbox.patch("/_sandbox/options", json={"html_429": False, "rate_limit": 7})


async def test_reads_account_users_pipelines_and_fields(client: AmoClient, account_id: int) -> None:
    account = await client.account()
    assert account["id"] == account_id
    assert len(await client.users()) == 2
    [pipeline] = await client.pipelines()
    assert {142, 143} <= {status["id"] for status in pipeline["_embedded"]["statuses"]}
    kinds = {field["type"] for field in await client.lead_fields()}
    assert {"text", "numeric", "select", "multiselect", "date", "url", "checkbox"} <= kinds
    assert {field["code"] for field in await client.contact_fields()} >= {"PHONE", "EMAIL"}


async def test_pages_are_followed_until_the_last(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    for n in range(260):
        _seed_contact(sandbox, account_id, f"Contact {n}", None)
    contacts = [c async for c in client.paginate("/api/v4/contacts", "contacts")]
    assert len(contacts) == 260
    assert len({c["id"] for c in contacts}) == 260


async def test_contact_search_keeps_only_exact_matches(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    exact = _seed_contact(sandbox, account_id, "Partner", "42")
    _seed_contact(sandbox, account_id, "Other partner", "420")
    _seed_contact(sandbox, account_id, "42 Street shop", None)
    partner_field = exact["custom_fields_values"][0]["field_id"]
    found = await client.find_contacts(partner_field, "42")
    assert [c["id"] for c in found] == [exact["id"]]
    assert await client.find_contacts(partner_field, "no-such-partner") == []


async def test_a_lead_with_notes_and_linked_products(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    contact = _seed_contact(sandbox, account_id, "Buyer", "7")
    [pipeline] = await client.pipelines()
    status = pipeline["_embedded"]["statuses"][1]
    [created] = await client.create_leads(
        [
            {
                "name": "Order 1001",
                "price": 150,
                "pipeline_id": pipeline["id"],
                "status_id": status["id"],
                "_embedded": {
                    "contacts": [{"id": contact["id"], "is_main": True}],
                    "tags": [{"name": "shop"}],
                },
            }
        ]
    )
    lead_id = created["id"]
    await client.add_notes(
        [{"entity_id": lead_id, "note_type": "common", "params": {"text": "Full order"}}]
    )
    [catalog] = await client.catalogs()
    fields = {f["code"]: f for f in await client.catalog_fields(catalog["id"])}
    [element] = await client.create_elements(
        catalog["id"],
        [
            {
                "name": "Widget",
                "custom_fields_values": [
                    {"field_code": "SKU", "values": [{"value": "W-1"}]},
                    {"field_code": "PRICE", "values": [{"value": 75}]},
                ],
            }
        ],
    )
    assert [e["id"] for e in await client.find_elements(catalog["id"], "W-1")] == [element["id"]]
    await client.link_to_lead(
        lead_id,
        [
            {
                "to_entity_id": element["id"],
                "to_entity_type": "catalog_elements",
                "metadata": {
                    "catalog_id": catalog["id"],
                    "quantity": 2,
                    "price_id": fields["PRICE"]["id"],
                },
            }
        ],
    )
    state = sandbox.get(f"/_sandbox/accounts/{account_id}").json()
    [lead] = state["leads"]
    assert lead["status_id"] == status["id"]
    assert lead["_embedded"]["contacts"] == [{"id": contact["id"], "is_main": True}]
    assert state["notes"][0]["params"] == {"text": "Full order"}
    assert state["links"][0]["metadata"]["quantity"] == 2.0


async def test_validation_errors_name_the_failing_field(client: AmoClient) -> None:
    with pytest.raises(AmoValidationError) as caught:
        await client.create_leads(
            [{"name": "x", "custom_fields_values": [{"field_id": 1, "values": [{"value": "a"}]}]}]
        )
    assert str(caught.value) == (
        "amoCRM refused the request: item 0: custom_fields_values.0.field_id: "
        "NotSupportedChoice (The value you selected is not a valid choice.)"
    )


async def test_a_batch_over_250_is_refused(client: AmoClient) -> None:
    with pytest.raises(AmoBatchTooLarge, match="Limit 250 per page"):
        await client.request(
            "POST", "/api/v4/leads", json_body=[{"name": str(n)} for n in range(251)]
        )
    with pytest.raises(ValueError, match="batch size"):
        await client.create_leads([{"name": "x"}], batch_size=251)


async def test_writes_are_split_into_batches(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    created = await client.create_leads([{"name": f"Lead {n}"} for n in range(120)], batch_size=50)
    assert len(created) == 120
    assert len(sandbox.get(f"/_sandbox/accounts/{account_id}").json()["leads"]) == 120


async def test_an_ended_paid_period_is_explained(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    sandbox.patch(f"/_sandbox/accounts/{account_id}", json={"paid": False})
    with pytest.raises(AmoPaymentRequired, match="paid period has ended"):
        await client.account()


async def test_an_expired_token_is_refreshed_once(
    client: AmoClient, tokens: IssuedTokens, sandbox: httpx.Client, account_id: int
) -> None:
    sandbox.post(f"/_sandbox/accounts/{account_id}/expire-access-tokens")
    assert (await client.account())["id"] == account_id
    assert tokens.refreshes == 1


async def test_a_token_refused_after_refresh_is_unauthorized(sandbox_url: str) -> None:
    class DeadTokens:
        async def access_token(self) -> str:
            return "dead"

        async def after_unauthorized(self, rejected: str) -> str:
            return "still-dead"

    async with AmoClient(sandbox_url, DeadTokens(), NoLimit()) as amo:
        with pytest.raises(AmoUnauthorized, match="reconnect amoCRM"):
            await amo.account()


@pytest.mark.usefixtures("restore_options")
@pytest.mark.parametrize("html_429", [False, True])
async def test_429_is_waited_out_json_or_html(
    sandbox_url: str, sandbox: httpx.Client, tokens: IssuedTokens, html_429: bool
) -> None:
    import asyncio

    sandbox.patch("/_sandbox/options", json={"html_429": html_429, "rate_limit": 3})
    log = AttemptLog()
    async with AmoClient(sandbox_url, tokens, NoLimit(), log=log) as amo:
        results = await asyncio.gather(*(amo.account() for _ in range(6)))
    assert len(results) == 6
    statuses = [entry["data"]["status"] for entry in log.entries]
    assert 429 in statuses
    assert statuses.count(200) == 6


async def test_calls_are_logged_without_tokens(client: AmoClient, tokens: IssuedTokens) -> None:
    await client.account()
    assert client._log is not None
    [entry] = client._log.entries
    assert entry["message"] == "amoCRM GET /api/v4/account → 200"
    assert entry["data"]["status"] == 200
    assert tokens.token not in str(client._log.entries)


@pytest.fixture
def restore_limits(sandbox: httpx.Client) -> Iterator[None]:
    yield
    sandbox.patch(
        "/_sandbox/options",
        json={
            "gateway_timeout_above": 0,
            "rate_limit": 7,
            "block_after_excess": 50,
            "block_seconds": 30,
        },
    )


@pytest.mark.usefixtures("restore_limits")
async def test_after_a_504_writes_are_not_resent_and_later_batches_are_smaller(
    client: AmoClient, sandbox: httpx.Client, account_id: int
) -> None:
    sandbox.patch("/_sandbox/options", json={"gateway_timeout_above": 20})
    with pytest.raises(AmoUncertainWrite, match="may or may not have been made"):
        await client.create_leads([{"name": f"Heavy {n}"} for n in range(30)], batch_size=30)
    assert client.batch_cap == 15
    created = await client.create_leads([{"name": f"Light {n}"} for n in range(40)], batch_size=50)
    assert len(created) == 40
    assert len(sandbox.get(f"/_sandbox/accounts/{account_id}").json()["leads"]) == 40


@pytest.mark.usefixtures("restore_limits")
async def test_repeated_excess_blocks_the_account_with_403(
    sandbox_url: str, sandbox: httpx.Client, tokens: IssuedTokens
) -> None:
    sandbox.patch(
        "/_sandbox/options", json={"rate_limit": 1, "block_after_excess": 3, "block_seconds": 5}
    )
    headers = {"Authorization": f"Bearer {tokens.token}"}
    statuses = [sandbox.get("/api/v4/account", headers=headers).status_code for _ in range(6)]
    assert statuses[:4] == [200, 429, 429, 429]
    assert statuses[4:] == [403, 403]
    async with AmoClient(sandbox_url, tokens, NoLimit()) as amo:
        with pytest.raises(AmoForbidden, match="blocked after too many requests"):
            await amo.account()
