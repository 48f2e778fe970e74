"""Running Junction as real processes, and waiting on conditions (never fixed sleeps)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.factories import TEST_SECRET_KEY
from tests.support.backends import Databases

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run_junction(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`junction ARGS` in a process of its own, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "junction", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


class Junction:
    """API and worker processes sharing one environment."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._workers_started = 0

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_junction(*args, env=self.env)
        result.check_returncode()
        return result

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "junction", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_api(self) -> None:
        self.api = self._spawn("api", "api", "--port", str(self.port))
        wait_for(self._ready, timeout=60, what="the API to be ready")

    def _ready(self) -> bool:
        assert self.api is not None
        if self.api.poll() is not None:
            raise AssertionError(f"the API exited: {self.read_log('api')}")
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self) -> None:
        self._workers_started += 1
        self.worker = self._spawn(f"worker-{self._workers_started}", "worker")

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def read_log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for process in (self.worker, self.api):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.worker, self.api):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def fresh_junction(
    databases: Databases, redis_url: str, workdir: Path, env: dict[str, str]
) -> Junction:
    """Junction's processes on a freshly migrated database of their own, with `env`
    (JUNCTION_* settings) over the tests' defaults."""
    return Junction(
        {
            "JUNCTION_DATABASE_URL": await databases.create_migrated(),
            "JUNCTION_REDIS_URL": redis_url,
            "JUNCTION_VAR_DIR": str(workdir / "var"),
            "JUNCTION_SECRET_KEY": TEST_SECRET_KEY,
            "JUNCTION_QUEUE_NAME": f"junction:test:{uuid.uuid4().hex[:8]}",
            **env,
        },
        workdir,
    )


@contextmanager
def sandbox_process(name: str, log_dir: Path, ready_path: str) -> Iterator[str]:
    """`junction sandbox <name>` on a free port, its URL once `ready_path` answers 200."""
    port = free_port()
    log = (log_dir / f"{name}-sandbox.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "junction", "sandbox", name, "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the {name} sandbox exited: {log.name}")
        try:
            return httpx.get(f"{url}{ready_path}", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=30, what=f"the {name} sandbox")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def provision(junction: Junction) -> tuple[str, dict[str, str]]:
    """The demo tenant applied, and an API key for it: (its echo hook path, auth headers)."""
    applied = junction.command("tenants", "apply", "tenants/demo.yaml").stdout
    hook_path = re.search(r"/hooks/\S+", applied)
    assert hook_path is not None
    key = junction.command(
        "api-keys", "create", "--tenant", "demo", "--name", "test"
    ).stdout.strip()
    return hook_path.group(0), {"Authorization": f"Bearer {key}"}


def event_of(junction: Junction, auth: dict[str, str], event_id: str) -> dict[str, Any]:
    response = httpx.get(f"{junction.base}/api/events/{event_id}", headers=auth, timeout=5)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def post_order(junction: Junction, hook: str, order: str, **extra: object) -> str:
    response = httpx.post(
        f"{junction.base}{hook}",
        json={"order_id": order, **extra},
        headers={"Idempotency-Key": order},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    event_id: str = response.json()["event_id"]
    return event_id


def all_done(junction: Junction, auth: dict[str, str], ids: list[str]) -> bool:
    return all(event_of(junction, auth, event_id)["status"] == "done" for event_id in ids)
