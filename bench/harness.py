"""What the benchmarks share: ports, a fresh database, Junction's own commands."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pick_backend(requested: str) -> str:
    if requested != "auto":
        return requested
    return "postgres" if answers(5432) and answers(6379) else "embedded"


def backend_environment(backend: str, env: dict[str, str]) -> dict[str, str]:
    """`env` pointed at PostgreSQL + Redis (a fresh database) or the embedded default."""
    env = dict(env)
    if backend == "postgres":
        name = f"jbench_{uuid.uuid4().hex[:8]}"
        _create_database(name)
        env["JUNCTION_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        env["JUNCTION_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    else:
        env.pop("JUNCTION_DATABASE_URL", None)
        env.pop("JUNCTION_REDIS_URL", None)
    return env


def bench_environment(
    backend: str, name: str, extra: dict[str, str] | None = None
) -> tuple[Path, dict[str, str]]:
    """A fresh working directory and the environment of Junction's processes in it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"junction-{name}-"))
    env = backend_environment(
        backend,
        {
            **os.environ,
            "JUNCTION_VAR_DIR": str(workdir),
            "JUNCTION_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "JUNCTION_QUEUE_NAME": f"junction:bench:{uuid.uuid4().hex[:8]}",
            "JUNCTION_SECRET_KEY": secrets.token_urlsafe(32),
            **(extra or {}),
        },
    )
    return workdir, env


def _create_database(name: str) -> None:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())


def junction(env: dict[str, str], *args: str) -> str:
    """Run a `junction` command to completion; its standard output."""
    return subprocess.run(
        [sys.executable, "-m", "junction", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start a long-running `junction` command, its output appended to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "junction", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


def stop(*processes: subprocess.Popen[bytes] | None) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def start_amocrm_sandbox(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The amoCRM sandbox on a free port, and `env` pointed at its integration."""
    url = f"http://127.0.0.1:{free_port()}"
    process = start(env, log, "sandbox", "amocrm", "--port", url.rsplit(":", 1)[1])
    wait_until(
        lambda: httpx.get(f"{url}/_sandbox/integration").status_code == 200,
        30,
        "the sandbox starting",
    )
    integration = httpx.get(f"{url}/_sandbox/integration").json()
    env.update(
        {
            "JUNCTION_AMOCRM_CLIENT_ID": integration["client_id"],
            "JUNCTION_AMOCRM_CLIENT_SECRET": integration["client_secret"],
            "JUNCTION_AMOCRM_REDIRECT_URI": integration["redirect_uri"],
            "JUNCTION_AMOCRM_EXTRA_HOSTS": url,
        }
    )
    return process, url


def database_url(env: dict[str, str]) -> str:
    """The database the Junction processes started with `env` use (Junction's own rule)."""
    from junction.settings import Settings

    return Settings(
        var_dir=Path(env["JUNCTION_VAR_DIR"]), database_url=env.get("JUNCTION_DATABASE_URL", "")
    ).resolved_database_url


def processing_span(env: dict[str, str]) -> tuple[int, float]:
    """Events done, and the seconds from the first attempt's start to the last finish.

    Read from the database: what the worker did, without its start-up or the polling
    of whoever waits for it."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> tuple[int, float]:
        engine = create_async_engine(database_url(env))
        async with engine.connect() as connection:
            done, last = (
                await connection.execute(
                    text("SELECT count(*), max(finished_at) FROM events WHERE status = 'done'")
                )
            ).one()
            first = (
                await connection.execute(text("SELECT min(started_at) FROM event_attempts"))
            ).scalar_one()
        await engine.dispose()
        if isinstance(first, str):  # SQLite hands timestamps back as text
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        return done, (last - first).total_seconds()

    return asyncio.run(read())


def pending(base: str, auth: dict[str, str]) -> bool:
    """Whether any event is still on its way (received, processing or retrying)."""
    for status in ("received", "processing", "retrying"):
        page = httpx.get(
            f"{base}/api/events", params={"status": status, "limit": 1}, headers=auth, timeout=30
        ).json()
        if page["items"]:
            return True
    return False
