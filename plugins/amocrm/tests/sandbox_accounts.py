"""Setting up against the amoCRM sandbox: a provider pointed at it, a connected account
stored as Junction would store it, and the spec a caller process (`amo_caller.py`) runs
from. Shared by these tests and `bench/amocrm_client.py`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from junction_amocrm.provider import AmoProvider
from junction_amocrm.settings import AmoSettings
from tests.support.amocrm_sandbox import connect

__all__ = ["caller_spec", "connect", "sandbox_provider"]


def sandbox_provider(sandbox: httpx.Client, sandbox_url: str) -> AmoProvider:
    integration = sandbox.get("/_sandbox/integration").json()
    return AmoProvider(
        AmoSettings(
            client_id=integration["client_id"],
            client_secret=integration["client_secret"],
            redirect_uri=integration["redirect_uri"],
            extra_hosts=[sandbox_url],
        )
    )


def caller_spec(
    *,
    database_url: str,
    redis_url: str,
    secret_key: str,
    connection: Any,
    sandbox_url: str,
    integration: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """What a caller needs: where the connection and the sandbox are, and when to start."""
    run = uuid.uuid4().hex
    return {
        "database_url": database_url,
        "redis_url": redis_url,
        "secret_key": secret_key,
        "tenant_id": str(connection.tenant_id),
        "connection_id": str(connection.id),
        "sandbox_url": sandbox_url,
        "ready_key": f"caller:{run}:ready",
        "go_key": f"caller:{run}:go",
        "amocrm": {
            "client_id": integration["client_id"],
            "client_secret": integration["client_secret"],
            "redirect_uri": integration["redirect_uri"],
            "extra_hosts": [sandbox_url],
        },
        **extra,
    }
