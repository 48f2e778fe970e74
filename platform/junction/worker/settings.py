"""The arq worker's settings, built flat from Junction's settings.

arq ignores inherited attributes, so the class is assembled in one place with every
value set on purpose.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.typing import WorkerSettingsBase
from arq.worker import func
from prometheus_client import start_http_server

from junction.events.queueing import PROCESS_EVENT_JOB
from junction.logs import configure_logging
from junction.plugins.registry import PluginRegistry
from junction.runtime import Runtime, open_runtime, resolve_redis_url
from junction.settings import Settings
from junction.worker import jobs

log = logging.getLogger(__name__)


def sweep_seconds(interval: float) -> set[int]:
    step = max(1, min(60, round(interval)))
    return set(range(0, 60, step))


def build_worker_settings(
    settings: Settings, *, registry: PluginRegistry | None = None
) -> type[WorkerSettingsBase]:
    redis_url, embedded = resolve_redis_url(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(settings)
        runtime = await open_runtime(settings, registry=registry, redis_url=redis_url)
        ctx["runtime"] = runtime
        if settings.worker_metrics_port:
            start_http_server(settings.worker_metrics_port, registry=runtime.metrics.registry)
        log.info(
            "worker started with plugins: %s", ", ".join(sorted(runtime.registry.plugins)) or "none"
        )

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        runtime: Runtime | None = ctx.get("runtime")
        if runtime is not None:
            await runtime.close()
        if embedded is not None:
            embedded.stop()

    lease = settings.event_lease_seconds
    attributes: dict[str, Any] = {
        # max_tries only counts re-runs of jobs cut off by a dying worker; failures inside
        # a job are retried by Junction's own schedule, recorded in the database.
        "functions": [func(jobs.process_event, name=PROCESS_EVENT_JOB, max_tries=5)],
        "cron_jobs": [
            cron(
                jobs.sweep,
                name="sweep",
                second=sweep_seconds(settings.sweep_interval_seconds),
                run_at_startup=True,
                unique=True,
                keep_result=0,
            ),
            # Every minute: the connections whose health check is due (spread over the hour).
            cron(
                jobs.check_connections,
                name="check-connections",
                second=29,
                unique=True,
                keep_result=0,
                timeout=600,
            ),
            # Every minute: alerts for connections whose state changed (or that stay
            # broken past their reminder), quota warnings, and deliveries due a retry.
            cron(
                jobs.send_alerts,
                name="send-alerts",
                second=44,
                unique=True,
                keep_result=0,
                timeout=600,
            ),
            # Hourly, at a minute no other cron uses; cheap when there is nothing to do.
            cron(jobs.purge_payloads, name="purge-payloads", minute=37, unique=True, keep_result=0),
        ],
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "queue_name": settings.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "max_jobs": settings.worker_concurrency,
        # A job outliving its lease would race the worker that takes the event over.
        "job_timeout": lease,
        # Results live in the database; arq keeping them would only hold job ids taken.
        "keep_result": 0,
        "health_check_interval": 30,
        # How long a queued job can wait for an idle worker to look: a backlog's next batch
        # waits this long. Fifty cheap reads a second per idle worker.
        "poll_delay": 0.02,
        "handle_signals": True,
        # SIGTERM: take no new job, let the running ones finish for this long, then cancel
        # them; a cancelled attempt hands its events back (`interrupted`) at once.
        "job_completion_wait": settings.worker_shutdown_seconds,
        "allow_abort_jobs": False,
    }
    return type("WorkerSettings", (), attributes)
