"""The sandbox's accounts, tokens and entities, held in memory."""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

ACCESS_TOKEN_SECONDS = 86400
# amoCRM's refresh tokens die three months after they are issued unless spent first.
REFRESH_TOKEN_SECONDS = 90 * 86400
DEMO_CLIENT_ID = "sandbox-client-id"
DEMO_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's public demo value
CODE_SECONDS = 20 * 60


@dataclass
class Integration:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Grant:
    account_id: int
    client_id: str
    expires_at: float


@dataclass
class RefreshGrant:
    account_id: int
    client_id: str
    expires_at: float
    spent: bool = False


@dataclass
class Account:
    id: int
    subdomain: str
    name: str
    paid: bool = True
    users: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    lead_fields: list[dict[str, Any]] = field(default_factory=list)
    contact_fields: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)
    catalogs: list[dict[str, Any]] = field(default_factory=list)
    elements: dict[int, dict[str, Any]] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    # Accepted API requests (monotonic seconds), for the rate limit and its measurement.
    accepted: deque[float] = field(default_factory=deque)
    all_accepted: list[float] = field(default_factory=list)
    rejected_429: int = 0
    excess_times: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    # After a rename the account answers OAuth only on this host (None: on any).
    host: str | None = None
    # How far this account's clock is ahead of the machine's: tests move it forward to
    # see tokens age (each account keeps its own, so tests never move each other's).
    clock_offset: float = 0.0
    access_token_seconds: float = ACCESS_TOKEN_SECONDS


def _field(
    ids: itertools.count[int],
    name: str,
    code: str | None,
    kind: str,
    options: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A custom field as amoCRM describes it; `options` become its enums, in order."""
    return {
        "id": next(ids),
        "name": name,
        "code": code,
        "type": kind,
        "sort": 500,
        "is_api_only": False,
        "required_statuses": [],
        "enums": [
            {"id": next(ids), "value": value, "sort": position}
            for position, value in enumerate(options, start=1)
        ]
        or None,
    }


class SandboxState:
    """Everything the sandbox knows. One demo integration and account exist from the start."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8765",
        redirect_uri: str = "http://127.0.0.1:8000/connections/amocrm/callback",
    ) -> None:
        self.base_url = base_url
        self.ids = itertools.count(1_000_001)
        self.integrations: dict[str, Integration] = {}
        self.accounts: dict[int, Account] = {}
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.long_lived: dict[str, Grant] = {}
        self.refreshes = 0
        self.demo_integration = self.add_integration(
            DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri
        )
        self.demo_account = self.add_account("sandbox", "Sandbox Shop")

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    def add_integration(self, client_id: str, client_secret: str, redirect_uri: str) -> Integration:
        integration = Integration(client_id, client_secret, redirect_uri)
        self.integrations[client_id] = integration
        return integration

    def add_account(self, subdomain: str, name: str) -> Account:
        account_id = next(self.ids)
        ids = self.ids
        pipeline_id = next(ids)
        account = Account(id=account_id, subdomain=subdomain, name=name)
        account.users = [
            {
                "id": next(ids),
                "name": "Owner",
                "email": "owner@example.com",
                "lang": "en",
                "rights": {"is_admin": True, "is_active": True},
            },
            {
                "id": next(ids),
                "name": "Manager",
                "email": "manager@example.com",
                "lang": "en",
                "rights": {"is_admin": False, "is_active": True},
            },
        ]
        account.pipelines = [
            {
                "id": pipeline_id,
                "name": "Orders",
                "sort": 1,
                "is_main": True,
                "is_unsorted_on": False,
                "is_archive": False,
                "account_id": account_id,
                "_embedded": {
                    "statuses": [
                        {
                            "id": next(ids),
                            "name": "New order",
                            "sort": 10,
                            "is_editable": True,
                            "pipeline_id": pipeline_id,
                            "color": "#99ccff",
                            "type": 0,
                            "account_id": account_id,
                        },
                        {
                            "id": next(ids),
                            "name": "Paid",
                            "sort": 20,
                            "is_editable": True,
                            "pipeline_id": pipeline_id,
                            "color": "#ffff99",
                            "type": 0,
                            "account_id": account_id,
                        },
                        {
                            "id": 142,
                            "name": "Won",
                            "sort": 10000,
                            "is_editable": False,
                            "pipeline_id": pipeline_id,
                            "color": "#CCFF66",
                            "type": 1,
                            "account_id": account_id,
                        },
                        {
                            "id": 143,
                            "name": "Lost",
                            "sort": 11000,
                            "is_editable": False,
                            "pipeline_id": pipeline_id,
                            "color": "#D5D8DB",
                            "type": 2,
                            "account_id": account_id,
                        },
                    ]
                },
            }
        ]
        account.lead_fields = [
            _field(ids, "Payment address", None, "text"),
            _field(ids, "Order total", None, "numeric"),
            _field(
                ids,
                "Delivery",
                None,
                "select",
                options=("Courier", "Pickup"),
            ),
            _field(
                ids,
                "Extras",
                None,
                "multiselect",
                options=("Gift wrap", "Insurance"),
            ),
            _field(ids, "Order date", None, "date"),
            _field(ids, "Order page", None, "url"),
            _field(ids, "Paid online", None, "checkbox"),
            _field(ids, "Order ID", None, "text"),
        ]
        account.contact_fields = [
            _field(
                ids,
                "Phone",
                "PHONE",
                "multitext",
                options=("WORK", "MOB"),
            ),
            _field(
                ids,
                "Email",
                "EMAIL",
                "multitext",
                options=("WORK", "PRIV"),
            ),
            _field(ids, "Partner ID", None, "text"),
        ]
        catalog_id = next(ids)
        account.catalogs = [
            {
                "id": catalog_id,
                "name": "Products",
                "type": "products",
                "account_id": account_id,
                "_embedded": {
                    "custom_fields": [
                        _field(ids, "SKU", "SKU", "text"),
                        _field(ids, "Price", "PRICE", "price"),
                        _field(ids, "Description", "DESCRIPTION", "textarea"),
                    ]
                },
            }
        ]
        self.accounts[account_id] = account
        return account

    def now(self, account_id: int) -> float:
        """The account's clock, in seconds since the epoch."""
        return time.time() + self.accounts[account_id].clock_offset

    def issue_code(self, account_id: int, client_id: str) -> str:
        code = "code_" + secrets.token_urlsafe(24)
        self.codes[code] = Grant(account_id, client_id, self.now(account_id) + CODE_SECONDS)
        return code

    def jwt(self, claims: dict[str, Any]) -> str:
        """A JWT-shaped token, as amoCRM's access tokens are (the signature is not real)."""

        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"

    def _claims(self, audience: str, account_id: int, lifetime: float) -> dict[str, Any]:
        return {
            "aud": audience,
            "jti": secrets.token_hex(8),
            "exp": int(self.now(account_id) + lifetime),
            "account_id": account_id,
            "api_domain": self.host,
        }

    def issue_tokens(
        self, account_id: int, client_id: str, lifetime: float | None = None
    ) -> dict[str, Any]:
        if lifetime is None:
            lifetime = self.accounts[account_id].access_token_seconds
        now = self.now(account_id)
        access = self.jwt(self._claims(client_id, account_id, lifetime))
        refresh = "def502" + secrets.token_hex(48)
        self.access_tokens[access] = Grant(account_id, client_id, now + lifetime)
        self.refresh_tokens[refresh] = RefreshGrant(
            account_id, client_id, now + REFRESH_TOKEN_SECONDS
        )
        return {
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "server_time": int(now),
            "access_token": access,
            "refresh_token": refresh,
        }

    def issue_long_lived(self, account_id: int, lifetime: float) -> str:
        token = self.jwt(self._claims("long-lived", account_id, lifetime))
        self.long_lived[token] = Grant(account_id, "long-lived", self.now(account_id) + lifetime)
        return token

    def next_id(self) -> int:
        return next(self.ids)
