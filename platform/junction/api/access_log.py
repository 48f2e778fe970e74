"""The access log: route templates, never raw paths (webhook URLs carry secrets)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from junction.logs import clear_contextvars

log = logging.getLogger("junction.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # Each request starts with no ids bound; intake binds the tenant's and endpoint's.
        clear_contextvars()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception:
            # The sender got a bare 500; the operator gets the traceback, with the route's
            # template (never the raw path, which may carry a token).
            route = scope.get("route")
            log.exception(
                "unhandled error in %s %s",
                scope["method"],
                getattr(route, "path", None) or "(unmatched)",
            )
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )
            clear_contextvars()
