"""Validation shared by the API: readable errors, and the types its inputs take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, ValidationError


def describe(exc: ValidationError, root: str = "(top)") -> str:
    """`field.path: what is wrong; other.field: …` — without echoing the input."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or root}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


# A point in time an API caller gives: it must name its zone, and it is kept in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
