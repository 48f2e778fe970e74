"""Endpoint tokens: 256 bits of randomness, URL-safe, looked up by their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_endpoint_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_endpoint_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_secret() -> str:
    """A secret a shop signs its deliveries with: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)
