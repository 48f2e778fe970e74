"""SIGTERM, as Kubernetes sends it before it stops a pod, to real processes: the API
finishes the requests it is serving, a worker finishes its events or hands them back."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Databases
from tests.support.processes import (
    Junction,
    all_done,
    event_of,
    fresh_junction,
    post_order,
    provision,
    wait_for,
)

pytestmark = [pytest.mark.processes]


@pytest.fixture
async def junction(databases: Databases, redis_url: str, tmp_path: Path) -> AsyncIterator[Junction]:
    junction = await fresh_junction(
        databases,
        redis_url,
        tmp_path,
        {
            "JUNCTION_EVENT_LEASE_SECONDS": "300",
            "JUNCTION_SWEEP_INTERVAL_SECONDS": "1",
            "JUNCTION_WORKER_SHUTDOWN_SECONDS": "3",
        },
    )
    yield junction
    junction.stop()


def _terminate(process: object, within: float) -> float:
    """SIGTERM; the seconds the process took to exit (fails past `within`)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
    process.wait(timeout=within)  # type: ignore[attr-defined]
    return time.monotonic() - started


def test_a_stopped_worker_finishes_what_it_can_and_hands_back_the_rest(
    junction: Junction,
) -> None:
    hook, auth = provision(junction)
    junction.start_api()
    junction.start_worker()
    # Two claims (the second comes once the first is taken, so no batch holds both).
    short = post_order(junction, hook, "short", echo_stall=2)
    wait_for(
        lambda: event_of(junction, auth, short)["status"] == "processing",
        timeout=30,
        what="the worker to start on the short event",
    )
    long = post_order(junction, hook, "long", echo_stall=120)
    wait_for(
        lambda: event_of(junction, auth, long)["status"] == "processing",
        timeout=30,
        what="the worker to start on the long event",
    )
    assert junction.worker is not None
    took = _terminate(junction.worker, within=20)
    assert junction.worker.returncode == 0, junction.read_log("worker-1")
    # It waited for the short one (within its 3 s), not for the long one.
    assert took < 10
    assert event_of(junction, auth, short)["status"] == "done"
    handed_back = event_of(junction, auth, long)
    assert handed_back["status"] == "retrying"
    [attempt] = handed_back["attempt_log"]
    assert attempt["outcome"] == "interrupted"
    assert "handed back" in attempt["error"]

    # The next worker takes it at once (no lease to wait out): it stalls only on its first
    # attempt, so it is done now, with no failure counted.
    junction.start_worker()
    wait_for(
        lambda: all_done(junction, auth, [long]),
        timeout=30,
        what="the next worker to finish the handed-back event",
    )
    outcomes = [a["outcome"] for a in event_of(junction, auth, long)["attempt_log"]]
    assert outcomes == ["interrupted", "done"]


def test_a_stopped_api_answers_the_requests_it_is_serving(junction: Junction) -> None:
    hook, auth = provision(junction)
    junction.start_api()
    body = b'{"order_id": "in-flight"}'
    request = (
        f"POST {hook} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: in-flight\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", junction.port), timeout=10) as sock:
        # The request is under way (headers sent, body not yet) when SIGTERM comes.
        sock.sendall(request + body[:5])
        time.sleep(0.3)
        assert junction.api is not None
        junction.api.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # New connections are no longer taken …
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{junction.base}/healthz", timeout=2)
        # … while the one in flight is finished and answered.
        sock.sendall(body[5:])
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 202"), answer
    junction.api.wait(timeout=20)
    # Uvicorn ends by re-raising the SIGTERM it handled, after a clean shutdown.
    assert junction.api.returncode in (0, -signal.SIGTERM), junction.read_log("api")
    assert "Application shutdown complete" in junction.read_log("api")

    # The order it accepted is there.
    junction.start_api()
    junction.start_worker()
    events = httpx.get(
        f"{junction.base}/api/events", params={"key": "in-flight"}, headers=auth, timeout=5
    ).json()["items"]
    assert len(events) == 1
    wait_for(
        lambda: all_done(junction, auth, [events[0]["id"]]),
        timeout=30,
        what="the in-flight order to be processed",
    )
