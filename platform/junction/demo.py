"""`junction demo`: the whole platform on one machine.

Migrates the SQLite database under var/, starts the embedded Redis, every plugin's
sandbox (the demo's CRM), the API and a worker; provisions the demo tenant, connects
each sandboxed provider through its real consent flow (auto-approved), and prints how
to send an order. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from junction.accounts.capture import CapturedMail, MailCapture
from junction.db import migrate as migrations
from junction.embedded_redis import EmbeddedRedis
from junction.intake.endpoints import hook_url
from junction.plugins.interfaces import SandboxConfig
from junction.plugins.registry import build_registry
from junction.settings import Settings
from junction.tenancy.manifest import load_manifest
from junction.tenancy.models import Role
from junction.tenancy.provisioning import apply_manifest_file, create_api_key

READY_TIMEOUT_SECONDS = 60.0
SAMPLE_ORDER = '{"order_id": "1001", "customer_id": "42", "total": "99.50"}'


class DemoError(Exception):
    pass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Processes:
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        # This same interpreter runs every part as its child.
        child = subprocess.Popen([sys.executable, "-m", "junction", *args], env=env)  # noqa: S603
        self.children.append(child)
        return child

    def any_exited(self) -> bool:
        return any(child.poll() is not None for child in self.children)

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_until(url: str, processes: Processes, *, ready: bool) -> None:
    """Wait for `url` to answer (with 200 when `ready`), or a child to die."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if processes.any_exited():
            raise DemoError("a Junction process exited during start-up; see the log above")
        try:
            status = httpx.get(url, timeout=1).status_code
            if not ready or status == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(f"{url} did not answer in time")


def run_demo(settings: Settings, host: str, port: int, manifest: Path) -> None:
    base = f"http://{host}:{port}"
    if not port_is_free(host, port):
        raise DemoError(f"{host}:{port} is already in use; pick another with --port")
    migrations.upgrade(settings.resolved_database_url)
    embedded = None
    redis_url = settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.var_dir)
        redis_url = embedded.start()
    processes = Processes()
    outbox = None
    if not settings.smtp_url.get_secret_value():
        # No mail server configured: the demo keeps its email and prints its links.
        outbox = MailCapture(on_message=print_mail)
        outbox.start()
    try:
        applied = asyncio.run(apply_manifest_file(settings, manifest))
        key = asyncio.run(
            create_api_key(settings, applied.tenant.slug, "demo", Role.admin, replace=True)
        )
        env = {
            # A workspace signed up in the browser gets order → lead to configure.
            "JUNCTION_NEW_WORKSPACE_PLUGINS": "order_to_lead",
            **os.environ,
            "JUNCTION_REDIS_URL": redis_url,
            "JUNCTION_PUBLIC_BASE_URL": base,
        }
        if outbox is not None:
            env["JUNCTION_SMTP_URL"] = outbox.url
        sandboxes = []
        for sandbox in build_registry().sandboxes.values():
            config = SandboxConfig(
                base_url=f"http://{host}:{free_port(host)}", demo=True, junction_url=base
            )
            sandbox_port = config.base_url.rsplit(":", 1)[1]
            processes.start(
                [
                    "sandbox",
                    sandbox.name,
                    "--host",
                    host,
                    "--port",
                    sandbox_port,
                    "--demo",
                    "--junction-url",
                    base,
                ],
                env,
            )
            env.update(sandbox.environment(config))
            sandboxes.append((sandbox, config))
        for _, config in sandboxes:
            wait_until(config.base_url, processes, ready=False)
        processes.start(["api", "--host", host, "--port", str(port)], env)
        processes.start(["worker"], env)
        wait_until(f"{base}/readyz", processes, ready=True)
        connected = [
            connect_through_sandbox(base, key, sandbox.provider, config)
            for sandbox, config in sandboxes
            if sandbox.provider
        ]
        sources = {spec.name: spec.source for spec in load_manifest(manifest).endpoints}
        endpoints = [
            (name, hook_url(base, token), sample_body(manifest, sources[name]))
            for name, token in applied.endpoint_tokens.items()
        ]
        print_instructions(base, endpoints, key, connected)
        wait_for_stop(processes)
    finally:
        processes.stop()
        if outbox is not None:
            outbox.stop()
        if embedded is not None:
            embedded.stop()


def print_mail(mail: CapturedMail) -> None:
    """The demo's outbox: who a message is for, and its links (to follow by hand)."""
    lines = [f"Email to {', '.join(mail.to)}: {mail.subject}"]
    lines += [f"  {link}" for link in mail.links]
    print("\n".join(lines), flush=True)


def connect_through_sandbox(base: str, key: str, provider: str, config: SandboxConfig) -> str:
    """Run the provider's consent flow; the sandbox approves and returns to the callback."""
    auth = {"Authorization": f"Bearer {key}"}
    started = httpx.post(f"{base}/api/connections/{provider}/authorize", headers=auth, timeout=30)
    if started.status_code != 200:
        return f"{provider}: not connected ({started.json()['error']['message']})"
    finished = httpx.get(started.json()["authorization_url"], follow_redirects=True, timeout=30)
    if finished.status_code != 201:
        return f"{provider}: not connected ({finished.text})"
    return f"{finished.json()['name']} (sandbox at {config.base_url})"


def sample_body(manifest: Path, source: str) -> str:
    """curl's body for a sample order: `samples/<source>.json` beside the manifest, if any."""
    sample = manifest.resolve().parent / "samples" / f"{source}.json"
    if sample.is_file():
        return f"@{sample}"
    return SAMPLE_ORDER


def print_instructions(
    base: str, endpoints: list[tuple[str, str, str]], key: str, connected: list[str]
) -> None:
    lines = [
        "",
        "Junction is running.",
        f"  API:          {base}  (docs at {base}/docs)",
        *(f"  Webhook URL:  {url}  ({name})" for name, url, _ in endpoints),
        f"  API key:      {key}",
        *(f"  Connected:    {name}" for name in connected),
        "",
    ]
    for name, url, body in endpoints:
        lines += [
            f"Send an order to {name!r}:",
            f"  curl -X POST {shlex.quote(url)} -H 'Content-Type: application/json' "
            f"-H 'Idempotency-Key: 1001' -d {shlex.quote(body)}",
            "",
        ]
    lines += [
        "Then read the events:",
        f"  curl -H {shlex.quote('Authorization: Bearer ' + key)} {base}/api/events",
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


def wait_for_stop(processes: Processes) -> None:
    stop = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stop and not processes.any_exited():
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
