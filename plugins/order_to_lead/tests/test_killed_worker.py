"""A worker killed between amoCRM creating the lead and the checkpoint: still one lead.

Real processes: the API, a worker and the amoCRM sandbox. The sandbox holds its answer to
the lead write for a few seconds after making the lead; the worker is killed in that
window, so the lead exists but no checkpoint says so.
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

pytestmark = [pytest.mark.processes, pytest.mark.slice]

DEMO_ACCOUNT = 1_000_001
ORDER_ID_FIELD = 1_000_018
PARTNER_FIELD = 1_000_025


def _leads_of(sandbox: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    state = sandbox.get(f"/_sandbox/accounts/{DEMO_ACCOUNT}").json()
    return [
        lead
        for lead in state["leads"]
        if any(
            field["field_id"] == ORDER_ID_FIELD
            and field["values"] == [{"value": f"order:{order_id}"}]
            for field in lead.get("custom_fields_values") or []
        )
    ]


async def test_a_worker_killed_before_its_checkpoint_leaves_one_lead(
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
            "JUNCTION_EVENT_LEASE_SECONDS": "4",
            "JUNCTION_SWEEP_INTERVAL_SECONDS": "1",
            **amocrm_environment(sandbox, sandbox_url),
        },
    )
    try:
        # The demo tenant: its OpenCart endpoint feeds order → lead into the demo account.
        applied = junction.command("tenants", "apply", "tenants/demo.yaml").stdout
        hook = re.search(r"endpoint 'Demo OpenCart': \S+(/hooks/\S+)", applied)
        assert hook is not None
        key = junction.command(
            "api-keys", "create", "--tenant", "demo", "--name", "t", "--role", "admin"
        ).stdout.strip()
        auth = {"Authorization": f"Bearer {key}"}
        sandbox.post(
            f"/_sandbox/accounts/{DEMO_ACCOUNT}/contacts",
            json={
                "name": "Partner 1",
                "custom_fields_values": [{"field_id": PARTNER_FIELD, "values": [{"value": "1"}]}],
            },
        )
        token = sandbox.post(f"/_sandbox/accounts/{DEMO_ACCOUNT}/long-lived-token", json={}).json()[
            "access_token"
        ]
        junction.start_api()
        connected = httpx.post(
            f"{junction.base}/api/connections/amocrm/credentials",
            json={"domain": integration["host"], "access_token": token},
            headers=auth,
            timeout=30,
        )
        assert connected.status_code == 201, connected.text

        order_id = f"k{uuid.uuid4().hex[:10]}"
        order = json.loads((ROOT / "tenants/samples/opencart.json").read_text())
        order["order_id"] = order_id
        sandbox.patch("/_sandbox/options", json={"lead_write_answer_delay": 5})
        try:
            junction.start_worker()
            posted = httpx.post(f"{junction.base}{hook.group(1)}", json=order, timeout=10)
            assert posted.status_code == 202, posted.text
            event_id = posted.json()["event_id"]
            wait_for(lambda: _leads_of(sandbox, order_id) or None, timeout=30, what="the lead")
            # amoCRM has made the lead and not yet answered: the worker dies now.
            junction.kill_worker()
        finally:
            sandbox.patch("/_sandbox/options", json={"lead_write_answer_delay": 0})

        junction.start_worker()

        def settled() -> dict[str, Any] | None:
            event = httpx.get(f"{junction.base}/api/events/{event_id}", headers=auth).json()
            return event if event["status"] in ("done", "failed") else None

        event = wait_for(settled, timeout=60, what="the event after the restart")
        assert event["status"] == "done", event["last_error"]
        [lead] = _leads_of(sandbox, order_id)
        assert event["result"]["lead_id"] == lead["id"]
        assert len(event["attempt_log"]) >= 2
        found = [entry["message"] for attempt in event["attempt_log"] for entry in attempt["log"]]
        assert "the lead an earlier attempt created was found" in found
    finally:
        junction.stop()
