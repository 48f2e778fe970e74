"""Log set-up: structlog over the standard library, as text or one JSON object per line.

Every line written while handling a delivery or an event attempt carries the ids bound
to it (`tenant_id`, `endpoint_id`, `event_id`, `attempt`), whichever library wrote it:
uvicorn's, arq's and Junction's standard-library loggers go through the same processors.

Nothing secret is ever passed to a logger: webhook tokens, credentials and keys stay out
of messages by construction (access logs carry route templates and endpoint ids).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars
from structlog.typing import Processor

from junction.settings import LogFormat, Settings

__all__ = ["bind_contextvars", "bound_contextvars", "clear_contextvars", "configure_logging"]


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="at"),
    ]


def configure_logging(settings: Settings) -> None:
    renderer: Processor
    if settings.log_format is LogFormat.json:
        renderer = structlog.processors.JSONRenderer()
        final: list[Processor] = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            renderer,
        ]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=False)]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.value)
    # uvicorn's access log prints raw paths, which carry webhook tokens; Junction writes
    # its own access log from route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request's full URL at INFO, and some URLs carry a secret
    # (Telegram's Bot API puts the bot's token in the path).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def context(**values: Any) -> dict[str, str]:
    """Ids as log context: strings, and nothing that is None."""
    return {key: str(value) for key, value in values.items() if value is not None}
