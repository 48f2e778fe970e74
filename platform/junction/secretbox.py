"""Secrets at rest: one way to encrypt and decrypt what Junction keeps for tenants.

Fernet (AES-128-CBC with HMAC-SHA256) keys are derived with HKDF from the secret key, so
operators manage one secret. Key rotation: set a new `JUNCTION_SECRET_KEY` and move the
old one to `JUNCTION_PREVIOUS_SECRET_KEYS`; old ciphertexts stay readable, new ones use
the new key, and `rotate` re-encrypts a value under the new key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HKDF_INFO = b"junction/secrets-at-rest/v1"


class SecretDecryptionError(Exception):
    """The value was not encrypted by any of the configured keys, or was altered."""


def _derive(secret_key: str) -> Fernet:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(material))


class SecretBox:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys or not secret_keys[0]:
            raise ValueError("at least one secret key is required")
        self._fernet = MultiFernet([_derive(key) for key in secret_keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        return self._open(self._fernet.decrypt, ciphertext).decode()

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted under the current key."""
        return self._open(self._fernet.rotate, ciphertext).decode()

    @staticmethod
    def _open(operation: Callable[[bytes], bytes], ciphertext: str) -> bytes:
        try:
            return operation(ciphertext.encode())
        except InvalidToken:
            raise SecretDecryptionError(
                "secret cannot be decrypted with the configured keys"
            ) from None

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, ciphertext: str) -> Any:
        return json.loads(self.decrypt(ciphertext))
