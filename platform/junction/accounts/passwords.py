"""Passwords: argon2id hashes, rehashed on log-in when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class PasswordError(ValueError):
    pass


def check_strength(password: str, email: str) -> None:
    """Refuse passwords anyone would guess first; say why."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the password must have at most {MAX_LENGTH} characters")
    if password.strip().lower() == email.strip().lower():
        raise PasswordError("the password must not be the email address")
    if len(set(password)) < 4:
        raise PasswordError("the password must not repeat a few characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if stored is None:
        # Spend the same time as a real check: no timing hint that the account exists.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
