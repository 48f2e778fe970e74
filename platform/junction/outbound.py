"""HTTP clients for calls to outside systems, sharing one TLS context per process.

Building a TLS context reads the whole CA bundle (about 30 ms); a client per event
attempt, health check or alert run would pay that every time.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import certifi
import httpx


@functools.cache
def tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def http_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=tls(), **options)
