"""When to try a failed event again.

The schedule is `JUNCTION_RETRY_SCHEDULE_SECONDS` (default 10 s, 1 min, 5 min, 30 min,
2 h, 6 h, 12 h, 24 h): attempt n+1 waits the n-th delay, with ±20 % jitter so that events failing
together (an outage) do not come back together. After the last delay the next failure
is final and the event becomes a dead letter (`failed`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

JITTER = 0.2


def retry_delay(
    schedule: Sequence[float], attempts_made: int, rng: random.Random | None = None
) -> timedelta | None:
    """The wait before the next attempt, or None when the event has had all its tries."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    spread = (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=base * (1 + spread))
