"""Turning pydantic's validation errors into one line a person can act on."""

from __future__ import annotations

from pydantic import ValidationError


def describe(exc: ValidationError, root: str = "(top)") -> str:
    """`field.path: what is wrong; other.field: …` — without echoing the input."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or root}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )
