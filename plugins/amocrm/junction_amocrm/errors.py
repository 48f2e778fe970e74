"""What can go wrong talking to amoCRM, as exceptions a person can act on."""

from __future__ import annotations

from typing import Any


class AmoError(Exception):
    """An amoCRM call failed. `status` is the HTTP status (0 when none came back)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AmoValidationError(AmoError):
    """amoCRM refused the request's content (400 with `validation-errors`)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        parts = []
        for item in problems:
            for error in item.get("errors", []):
                parts.append(
                    f"item {item.get('request_id', '?')}: {error.get('path')}: "
                    f"{error.get('code')} ({error.get('detail')})"
                )
        super().__init__("amoCRM refused the request: " + "; ".join(parts), 400)


class AmoUnauthorized(AmoError):
    """The token was refused even after a refresh: the connection must be reconnected."""


class AmoPaymentRequired(AmoError):
    """The amoCRM account's paid or trial period has ended (402)."""


class AmoForbidden(AmoError):
    """403: the account's API is blocked (after repeated rate-limit excess) or the user
    lacks rights. Both need a person; retrying makes a block worse."""


class AmoRateLimited(AmoError):
    """429 persisted after waiting and retrying."""


class AmoBatchTooLarge(AmoError):
    """422: more entities in one request than amoCRM accepts."""


class AmoServerError(AmoError):
    """5xx from amoCRM; for writes it is unknown whether the change happened."""


class AmoUncertainWrite(AmoError):
    """A write timed out or failed on the server side: it may have happened. It is
    never re-sent blindly; the caller checks and decides."""
