"""The web app in real Chromium (Debian's, driven by Playwright) against real Junction
processes: the API serving the built app, the worker, email through the capture server.
Screenshots of each screen go to `var/screenshots/` (CI keeps them as artefacts)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from junction.accounts.capture import MailCapture
from junction.web import SOURCE_TREE_BUILD
from tests.support.amocrm_sandbox import amocrm_environment
from tests.support.backends import Databases
from tests.support.processes import ROOT, Junction, fresh_junction
from tests.support.stripe import PLANS_FILE, STRIPE_KEY, WEBHOOK_SECRET

SCREENSHOTS = Path(os.environ.get("JUNCTION_SCREENSHOTS", ROOT / "var" / "screenshots"))


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError(
            "Chromium is not installed: `apt-get install chromium` (`make test` installs it)"
        )
    return found


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not (SOURCE_TREE_BUILD / "index.html").is_file():
        raise AssertionError("the web app is not built: run `make web` first")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        await launched.close()


@asynccontextmanager
async def _junction_for_the_browser(
    databases: Databases,
    redis_url: str,
    tmp_path: Path,
    mail_capture: MailCapture,
    sandbox: httpx.Client,
    sandbox_url: str,
    env: dict[str, str],
) -> AsyncIterator[Junction]:
    """Junction's API and worker, email to the capture server, amoCRM in the sandbox (an
    integration of its own, whose consent page sends the browser back to them)."""
    junction = await fresh_junction(
        databases,
        redis_url,
        tmp_path,
        {"JUNCTION_SMTP_URL": mail_capture.url, "JUNCTION_SWEEP_INTERVAL_SECONDS": "1"},
    )
    client_id = f"web-{uuid.uuid4().hex[:12]}"
    callback = f"{junction.base}/connections/amocrm/callback"
    sandbox.post(
        "/_sandbox/integrations",
        json={"client_id": client_id, "client_secret": "web-secret", "redirect_uri": callback},
    ).raise_for_status()
    junction.env.update(
        {
            **amocrm_environment(sandbox, sandbox_url),
            "JUNCTION_AMOCRM_CLIENT_ID": client_id,
            "JUNCTION_AMOCRM_CLIENT_SECRET": "web-secret",
            "JUNCTION_AMOCRM_REDIRECT_URI": callback,
            "JUNCTION_PUBLIC_BASE_URL": junction.base,
            **env,
        }
    )
    junction.start_api()
    junction.start_worker()
    try:
        yield junction
    finally:
        junction.stop()


@pytest.fixture
def browser_junction(
    databases: Databases,
    redis_url: str,
    tmp_path: Path,
    mail_capture: MailCapture,
    sandbox: httpx.Client,
    sandbox_url: str,
) -> Callable[[dict[str, str]], AbstractAsyncContextManager[Junction]]:
    """Junction for the browser, started with the given JUNCTION_* settings on top."""
    return partial(
        _junction_for_the_browser,
        databases,
        redis_url,
        tmp_path,
        mail_capture,
        sandbox,
        sandbox_url,
    )


@pytest.fixture
async def web(
    browser_junction: Callable[[dict[str, str]], AbstractAsyncContextManager[Junction]],
    mobcash_url: str,
) -> AsyncIterator[Junction]:
    """Billing off, the MobCash sandbox's cash desks, and alert webhooks allowed to local
    addresses (the tests' receiver listens on 127.0.0.1)."""
    async with browser_junction(
        {
            "JUNCTION_MOBCASH_EXTRA_HOSTS": mobcash_url,
            "JUNCTION_ALERT_WEBHOOKS_TO_PRIVATE_HOSTS": "true",
        }
    ) as junction:
        yield junction


@pytest.fixture
async def billed_web(
    browser_junction: Callable[[dict[str, str]], AbstractAsyncContextManager[Junction]],
    stripe_url: str,
) -> AsyncIterator[Junction]:
    """Billing on against localstripe (the tests' plans: three events a month free), every
    new workspace given the echo plugin."""
    async with browser_junction(
        {
            "JUNCTION_STRIPE_SECRET_KEY": STRIPE_KEY,
            "JUNCTION_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JUNCTION_STRIPE_API_URL": stripe_url,
            "JUNCTION_BILLING_PLANS_FILE": str(PLANS_FILE),
            "JUNCTION_NEW_WORKSPACE_PLUGINS": "echo",
        }
    ) as junction:
        yield junction


# What an accessibility failure is here: axe-core's serious and critical findings (a
# control without a name, text without contrast, a broken ARIA reference …).
BLOCKING = ("serious", "critical")


async def assert_accessible(page: Page) -> None:
    """The page, as it is now, passes axe-core's checks (WCAG 2 A and AA rules)."""
    results = await Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
    )
    found = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(
            f"{node['target']}: {node.get('failureSummary', '')}" for node in violation["nodes"][:3]
        )
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert not found, f"{page.url}:\n" + "\n".join(found)


class Screens:
    """Saves a screenshot per screen and language: `<test>/<n>-<name>-<language>.png`,
    each screen of the app passing the accessibility check first."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    async def shot(self, page: Page, name: str) -> None:
        """Every screen of the app shot is also checked for accessibility first."""
        if "/app" in page.url:
            await assert_accessible(page)
        self.count += 1
        language = await page.evaluate("document.documentElement.lang || navigator.language")
        path = self.folder / f"{self.count:02d}-{name}-{language}.png"
        # The whole page in one tall window, so the fixed header and menu stay at the top
        # (a full-page capture of a normal window repeats them halfway down).
        viewport = page.viewport_size
        assert viewport is not None
        height = await page.evaluate("document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": viewport["width"], "height": max(height, 600)})
        try:
            await page.screenshot(path=path)
        finally:
            await page.set_viewport_size(viewport)


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(SCREENSHOTS / request.node.name)
