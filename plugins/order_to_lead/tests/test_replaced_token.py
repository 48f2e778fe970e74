"""A long-lived token replaced through the API reaches a worker that is already running.

Real processes: the API, one worker started once, and the amoCRM sandbox. The token the
workspace pasted is revoked in amoCRM; the order that meets it pauses and the connection
asks for a person. A token that does not work is refused without touching the stored
one; a working one is taken by the running worker on its next call, and the paused order
goes through with no restart.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.amocrm_sandbox import amocrm_environment
from tests.support.backends import Databases
from tests.support.processes import ROOT, fresh_junction, wait_for

pytestmark = [pytest.mark.processes]

DEMO_ACCOUNT = 1_000_001
PARTNER_FIELD = 1_000_025


async def test_a_replaced_token_is_used_by_the_running_worker(
    databases: Databases,
    redis_url: str,
    tmp_path: Path,
    sandbox: httpx.Client,
    sandbox_url: str,
) -> None:
    integration = sandbox.get("/_sandbox/integration").json()
    junction = await fresh_junction(
        databases,
        redis_url,
        tmp_path,
        {
            "JUNCTION_SWEEP_INTERVAL_SECONDS": "1",
            **amocrm_environment(sandbox, sandbox_url),
        },
    )
    partner = f"p{uuid.uuid4().hex[:8]}"
    sandbox.post(
        f"/_sandbox/accounts/{DEMO_ACCOUNT}/contacts",
        json={
            "name": "Partner",
            "custom_fields_values": [{"field_id": PARTNER_FIELD, "values": [{"value": partner}]}],
        },
    )

    def long_lived() -> str:
        token: str = sandbox.post(
            f"/_sandbox/accounts/{DEMO_ACCOUNT}/long-lived-token", json={}
        ).json()["access_token"]
        return token

    try:
        applied = junction.command("tenants", "apply", "tenants/demo.yaml").stdout
        hook = re.search(r"endpoint 'Demo OpenCart': \S+(/hooks/\S+)", applied)
        assert hook is not None
        key = junction.command(
            "api-keys", "create", "--tenant", "demo", "--name", "t", "--role", "admin"
        ).stdout.strip()
        api = httpx.Client(
            base_url=junction.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        junction.start_api()

        def paste(token: str) -> httpx.Response:
            return api.post(
                "/api/connections/amocrm/credentials",
                json={"domain": integration["host"], "access_token": token},
            )

        first = long_lived()
        connected = paste(first)
        assert connected.status_code == 201, connected.text
        connection_id = connected.json()["id"]
        junction.start_worker()
        assert junction.worker is not None
        worker_pid = junction.worker.pid

        def order(number: str) -> str:
            body = json.loads((ROOT / "tenants/samples/opencart.json").read_text())
            body["order_id"] = f"{number}-{uuid.uuid4().hex[:6]}"
            body["customer_id"] = partner
            posted = httpx.post(f"{junction.base}{hook.group(1)}", json=body, timeout=10)
            assert posted.status_code == 202, posted.text
            event_id: str = posted.json()["event_id"]
            return event_id

        def settles_as(event_id: str, *statuses: str) -> dict[str, Any]:
            def settled() -> dict[str, Any] | None:
                event: dict[str, Any] = api.get(f"/api/events/{event_id}").json()
                return event if event["status"] in (*statuses, "failed") else None

            return wait_for(settled, timeout=60, what=f"event {event_id} to be {statuses}")

        assert settles_as(order("before"), "done")["status"] == "done"

        sandbox.post("/_sandbox/tokens/revoke", json={"token": first})
        paused = settles_as(order("during"), "paused")
        assert paused["status"] == "paused", paused["last_error"]
        [connection] = api.get("/api/connections").json()
        assert connection["status"] == "needs_reauth"
        # What the broken connection blocks, as its page shows it.
        assert connection["paused_events"] == 1

        refused = paste("not-a-token")
        assert refused.status_code == 400
        assert "HTTP 401" in refused.json()["error"]["message"]
        [still] = api.get("/api/connections").json()
        assert still["status"] == "needs_reauth"

        replaced = paste(long_lived())
        assert replaced.status_code == 201, replaced.text
        assert replaced.json()["id"] == connection_id
        assert replaced.json()["status"] == "healthy"

        resumed = settles_as(paused["id"], "done")
        assert resumed["status"] == "done", resumed["last_error"]
        assert api.get("/api/connections").json()[0]["paused_events"] == 0
        assert settles_as(order("after"), "done")["status"] == "done"
        # The same worker process did it all.
        assert junction.worker.poll() is None
        assert junction.worker.pid == worker_pid
    finally:
        junction.stop()
