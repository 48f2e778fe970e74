"""The amoCRM sandbox as a real HTTP server, for the tests of every plugin that talks to
amoCRM: `sandbox_url`, a `sandbox` client for its inspection API, a fresh `account_id`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.support.processes import ROOT, free_port, wait_for


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("sandbox") / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "junction", "sandbox", "amocrm", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the sandbox exited: {log.name}")
        try:
            return httpx.get(f"{url}/_sandbox/integration", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=30, what="the amoCRM sandbox")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


@pytest.fixture
def account_id(sandbox: httpx.Client) -> int:
    """A fresh account per test, so tests never see each other's data."""
    response = sandbox.post(
        "/_sandbox/accounts", json={"subdomain": "test", "name": "Test account"}
    )
    account: int = response.json()["id"]
    return account
