"""An async amoCRM API v4 client with the limits and failure modes of the real service.

* Every request waits for the account's shared rate limiter.
* 401: the token is refreshed once (by the token source, one refresh at a time across
  processes) and the request repeated; a second 401 is `AmoUnauthorized`.
* 429 (JSON with `retry_after`, or an HTML page with nothing): wait and repeat, a few
  times; the request was refused, not processed, so this is safe for writes too.
* 5xx and timeouts: reads are retried with jittered backoff; writes are not re-sent
  (amoCRM has no idempotency keys): `AmoUncertainWrite`.
* 204 is an empty answer, returned as None.
* Every call is recorded on the attempt log, with tokens and secrets redacted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import httpx

from junction.outbound import http_client
from junction.plugins.interfaces import AttemptLog, LogLevel
from junction_amocrm.errors import (
    AmoBatchTooLarge,
    AmoError,
    AmoForbidden,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoServerError,
    AmoUnauthorized,
    AmoUncertainWrite,
    AmoValidationError,
)
from junction_amocrm.redaction import for_log

MAX_BATCH = 250
DEFAULT_BATCH = 50
READ_RETRIES = 3
RATE_LIMIT_RETRIES = 5
BACKOFF_BASE_SECONDS = 0.5
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenSource(Protocol):
    async def access_token(self) -> str: ...

    async def after_unauthorized(self, rejected: str) -> str:
        """A token to replace `rejected`; refreshes unless someone already has."""
        ...


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


def _retry_after(response: httpx.Response) -> float:
    header = response.headers.get("retry-after")
    if header and header.replace(".", "", 1).isdigit():
        return float(header)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 1.0
    value = body.get("retry_after") if isinstance(body, dict) else None
    return float(value) if isinstance(value, (int, float)) else 1.0


def _holds(entity: dict[str, Any], field_id: int, value: str) -> bool:
    """Whether the entity's custom field `field_id` holds exactly `value`."""
    return any(
        field.get("field_id") == field_id
        and any(
            str(item.get("value", "")).strip() == value.strip() for item in field.get("values", [])
        )
        for field in entity.get("custom_fields_values") or []
    )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        text = body.get("detail") or body.get("title") or body.get("hint")
        trace = body.get("trace_id")
        if text:
            return f"{text} (trace {trace})" if trace else str(text)
    return f"HTTP {response.status_code}"


class AmoClient:
    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        limiter: RateLimiter,
        *,
        http: httpx.AsyncClient | None = None,
        log: AttemptLog | None = None,
        sleep: Any = asyncio.sleep,
        dry_run: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._limiter = limiter
        self._http = http or http_client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._log = log
        self._sleep = sleep
        # Lowered after a 504 (the batch was too heavy); later batches stay under it.
        self.batch_cap = MAX_BATCH
        # A dry run reads for real and only records its writes (previews): every call
        # is listed in `calls`, in order.
        self.dry_run = dry_run
        self.calls: list[dict[str, Any]] = []
        self._placeholder_ids = itertools.count(1)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AmoClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # ---- the request loop ----------------------------------------------------------

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Any:
        """Send one API call; the parsed JSON body, or None for 204."""
        method = method.upper()
        idempotent = method in IDEMPOTENT
        if self.dry_run:
            self.calls.append(
                {
                    "method": method,
                    "path": path,
                    "params": params,
                    "json": json_body,
                    "sent": idempotent,
                }
            )
            if not idempotent:
                return self._placeholder_answer(path, json_body)
        token = await self._tokens.access_token()
        refreshed = False
        server_failures = 0
        rate_limited = 0
        while True:
            await self._limiter.acquire()
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method,
                    f"{self.base_url}{path}",
                    params=params,
                    json=json_body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TimeoutException as exc:
                self._record(method, path, None, started, json_body, None, error="timeout")
                if not idempotent:
                    raise AmoUncertainWrite(
                        f"{method} {path} timed out; the change may or may not have been made"
                    ) from exc
                server_failures += 1
                if server_failures > READ_RETRIES:
                    raise AmoError(f"{method} {path} timed out {server_failures} times") from exc
                await self._backoff(server_failures)
                continue
            except httpx.TransportError as exc:
                self._record(method, path, None, started, json_body, None, error=type(exc).__name__)
                # Nothing reached amoCRM when the connection could not be made.
                if not idempotent and not isinstance(exc, httpx.ConnectError):
                    raise AmoUncertainWrite(f"{method} {path} failed in transit: {exc}") from exc
                server_failures += 1
                if server_failures > READ_RETRIES:
                    raise AmoError(f"amoCRM could not be reached: {exc}") from exc
                await self._backoff(server_failures)
                continue

            body = self._body(response)
            self._record(method, path, response.status_code, started, json_body, body)
            status = response.status_code
            if status == 204:
                return None
            if status < 300:
                return body
            if status == 401:
                if refreshed:
                    raise AmoUnauthorized(
                        "amoCRM refused the connection's token; reconnect amoCRM", 401
                    )
                token = await self._tokens.after_unauthorized(token)
                refreshed = True
                continue
            if status == 429:
                rate_limited += 1
                if rate_limited > RATE_LIMIT_RETRIES:
                    raise AmoRateLimited("amoCRM kept answering 429 Too Many Requests", 429)
                await self._sleep(_retry_after(response))
                continue
            if status >= 500:
                if not idempotent:
                    raise AmoUncertainWrite(
                        f"amoCRM answered {status} to {method} {path}: {_detail(response)}; "
                        "the change may or may not have been made",
                        status,
                    )
                server_failures += 1
                if server_failures > READ_RETRIES:
                    raise AmoServerError(f"amoCRM answered {status}: {_detail(response)}", status)
                await self._backoff(server_failures)
                continue
            raise self._client_error(response, body)

    def _placeholder_answer(self, path: str, json_body: Any) -> dict[str, Any]:
        """What amoCRM would answer a write, with negative ids standing in for its own."""
        key = path.rstrip("/").rsplit("/", 1)[-1]
        key = "links" if key == "link" else key
        items = json_body if isinstance(json_body, list) else [json_body]
        return {
            "_embedded": {
                key: [
                    {"id": -next(self._placeholder_ids), "request_id": str(index)}
                    for index, _ in enumerate(items)
                ]
            }
        }

    def _client_error(self, response: httpx.Response, body: Any) -> AmoError:
        status = response.status_code
        if status == 400 and isinstance(body, dict) and body.get("validation-errors"):
            return AmoValidationError(body["validation-errors"])
        if status == 402:
            return AmoPaymentRequired("the amoCRM account's paid period has ended", 402)
        if status == 403:
            return AmoForbidden(
                "amoCRM refused access (403): the account's API may be blocked after too many "
                "requests, or the connected user lacks rights",
                403,
            )
        if status == 422:
            return AmoBatchTooLarge(f"amoCRM refused the batch: {_detail(response)}", 422)
        return AmoError(f"amoCRM answered {status}: {_detail(response)}", status)

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    async def _backoff(self, failures: int) -> None:
        delay = BACKOFF_BASE_SECONDS * 2 ** (failures - 1)
        await self._sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        sent: Any,
        received: Any,
        error: str | None = None,
    ) -> None:
        if self._log is None:
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        level: LogLevel = "info" if status is not None and status < 400 else "warning"
        self._log.add(
            level,
            f"amoCRM {method} {path} → {status if status is not None else error}",
            method=method,
            path=path,
            status=status,
            duration_ms=duration_ms,
            request=for_log(sent),
            response=for_log(received),
        )

    # ---- reading ---------------------------------------------------------------------

    async def paginate(
        self, path: str, key: str, params: dict[str, Any] | None = None, *, limit: int = MAX_BATCH
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list, page by page, while amoCRM offers a next page."""
        page = 1
        while True:
            body = await self.request(
                "GET", path, params={**(params or {}), "page": page, "limit": limit}
            )
            if body is None:
                return
            for item in body.get("_embedded", {}).get(key, []):
                yield item
            if "next" not in body.get("_links", {}):
                return
            page += 1

    async def _all(self, path: str, key: str, limit: int = MAX_BATCH) -> list[dict[str, Any]]:
        return [item async for item in self.paginate(path, key, limit=limit)]

    async def account(self) -> dict[str, Any]:
        body: dict[str, Any] = await self.request("GET", "/api/v4/account")
        return body

    async def users(self) -> list[dict[str, Any]]:
        return await self._all("/api/v4/users", "users")

    async def pipelines(self) -> list[dict[str, Any]]:
        body = await self.request("GET", "/api/v4/leads/pipelines")
        return list(body["_embedded"]["pipelines"]) if body else []

    async def lead_fields(self) -> list[dict[str, Any]]:
        return await self._all("/api/v4/leads/custom_fields", "custom_fields", limit=50)

    async def contact_fields(self) -> list[dict[str, Any]]:
        return await self._all("/api/v4/contacts/custom_fields", "custom_fields", limit=50)

    async def catalogs(self) -> list[dict[str, Any]]:
        return await self._all("/api/v4/catalogs", "catalogs")

    async def catalog_fields(self, catalog_id: int) -> list[dict[str, Any]]:
        return await self._all(
            f"/api/v4/catalogs/{catalog_id}/custom_fields", "custom_fields", limit=50
        )

    async def find_contacts(self, field_id: int, value: str) -> list[dict[str, Any]]:
        """Contacts whose field `field_id` holds exactly `value`.

        amoCRM's `query` matches loosely (any field, any part), so every result is
        checked against the exact field and value.
        """
        return [
            contact
            async for contact in self.paginate(
                "/api/v4/contacts", "contacts", {"query": value}, limit=50
            )
            if _holds(contact, field_id, value)
        ]

    async def find_leads(self, field_id: int, value: str) -> list[dict[str, Any]]:
        """Leads whose field `field_id` holds exactly `value` (checked, as `query` is loose)."""
        return [
            lead
            async for lead in self.paginate("/api/v4/leads", "leads", {"query": value}, limit=50)
            if _holds(lead, field_id, value)
        ]

    async def find_elements(self, catalog_id: int, query: str) -> list[dict[str, Any]]:
        return [
            element
            async for element in self.paginate(
                f"/api/v4/catalogs/{catalog_id}/elements", "elements", {"query": query}
            )
        ]

    # ---- writing ---------------------------------------------------------------------

    async def _batched(
        self, method: str, path: str, key: str, items: Sequence[dict[str, Any]], batch_size: int
    ) -> list[dict[str, Any]]:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch size must be between 1 and {MAX_BATCH}")
        results: list[dict[str, Any]] = []
        start = 0
        while start < len(items):
            size = min(batch_size, self.batch_cap)
            try:
                body = await self.request(method, path, json_body=list(items[start : start + size]))
            except AmoUncertainWrite as exc:
                if exc.status == 504:
                    # Whether this batch was written is unknown: the caller decides. Later
                    # batches are sent smaller.
                    self.batch_cap = max(1, size // 2)
                raise
            if body:
                results.extend(body.get("_embedded", {}).get(key, []))
            start += size
        return results

    async def create_leads(
        self, leads: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        return await self._batched("POST", "/api/v4/leads", "leads", leads, batch_size)

    async def update_leads(
        self, leads: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        return await self._batched("PATCH", "/api/v4/leads", "leads", leads, batch_size)

    async def create_contacts(
        self, contacts: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        return await self._batched("POST", "/api/v4/contacts", "contacts", contacts, batch_size)

    async def update_contacts(
        self, contacts: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        """Each item carries the contact's `id`; only the fields sent change."""
        return await self._batched("PATCH", "/api/v4/contacts", "contacts", contacts, batch_size)

    async def add_notes(
        self, notes: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        """Notes on leads; each item carries its lead's `entity_id`."""
        return await self._batched("POST", "/api/v4/leads/notes", "notes", notes, batch_size)

    async def create_elements(
        self, catalog_id: int, elements: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        return await self._batched(
            "POST", f"/api/v4/catalogs/{catalog_id}/elements", "elements", elements, batch_size
        )

    async def link_leads(
        self, links: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        """Links of several leads in one request; each item carries its lead's `entity_id`."""
        return await self._batched("POST", "/api/v4/leads/link", "links", links, batch_size)

    async def link_to_lead(
        self, lead_id: int, links: Sequence[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> list[dict[str, Any]]:
        return await self._batched(
            "POST", f"/api/v4/leads/{lead_id}/link", "links", links, batch_size
        )
