"""localstripe (a stateful local Stripe server) with stand-ins for the two Stripe APIs it
lacks: Checkout Sessions and Customer Portal sessions.

Both stand-ins answer as Stripe documents (a session object with its `url`) and keep
what they were asked, which `GET /_config/stand_in/sessions` returns for the tests to check.
Paying at the Checkout URL happens outside the machine; the tests do what Stripe does
then: create the subscription in localstripe and send `checkout.session.completed`.

Run: `python -m tests.support.localstripe_server --port N`.
"""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Any

from aiohttp import web
from localstripe import server
from localstripe.resources import Customer

SESSIONS: list[dict[str, Any]] = []


async def _checkout_session(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    Customer._api_retrieve(data["customer"])  # 404, as Stripe, for an unknown customer
    session_id = f"cs_test_{secrets.token_hex(16)}"
    session = {
        "id": session_id,
        "object": "checkout.session",
        "created": int(time.time()),
        "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        "status": "open",
        "subscription": None,
        **data,
    }
    SESSIONS.append(session)
    return web.json_response(session)


async def _portal_session(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    Customer._api_retrieve(data["customer"])
    session_id = f"bps_{secrets.token_hex(12)}"
    session = {
        "id": session_id,
        "object": "billing_portal.session",
        "created": int(time.time()),
        "url": f"https://billing.stripe.test/p/session/{session_id}",
        **data,
    }
    SESSIONS.append(session)
    return web.json_response(session)


async def _sessions(request: web.Request) -> web.Response:
    return web.json_response(SESSIONS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = server.app
    app.router.add_post("/v1/checkout/sessions", _checkout_session)
    app.router.add_post("/v1/billing_portal/sessions", _portal_session)
    app.router.add_get("/_config/stand_in/sessions", _sessions)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
