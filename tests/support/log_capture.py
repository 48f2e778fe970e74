"""Capturing Junction's JSON log lines in a test, then restoring the previous set-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from junction.logs import configure_logging
from junction.settings import LogFormat, LogLevel, Settings


@contextmanager
def json_logs(settings: Settings) -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging(
        settings.model_copy(update={"log_format": LogFormat.json, "log_level": LogLevel.INFO})
    )
    try:
        yield
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
