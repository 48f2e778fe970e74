"""Journeys through the web app in Chromium, in English and in Russian."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from junction.accounts.capture import MailCapture
from tests.support.mail import link_token, mail_to
from tests.support.processes import Junction
from tests.web.conftest import Screens

pytestmark = [pytest.mark.processes]

PASSWORD = "a long tea-shop password"


async def _page(browser: Browser, junction: Junction, language: str) -> Page:
    context = await browser.new_context(locale=language, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{junction.base}/app/login")
    return page


async def _sign_up(
    page: Page, mail: MailCapture, screens: Screens, email: str, workspace: str
) -> None:
    await page.get_by_role("link", name=re.compile("Create an account|Создать аккаунт")).click()
    await screens.shot(page, "signup")
    # The form checks its fields before asking the server.
    await page.get_by_role("button", name=re.compile("Create account|Создать аккаунт")).click()
    await expect(
        page.get_by_text(re.compile("Name your workspace|Назовите рабочее пространство"))
    ).to_be_visible()
    await page.get_by_label(re.compile("Workspace name|Название пространства")).fill(workspace)
    await page.get_by_label(re.compile("^(Email|Почта)")).fill(email)
    # The server refuses a weak password: its message stands at the password field.
    password = page.get_by_label(re.compile("^(Password|Пароль)"))
    await password.fill("aaaaaaaaaaaa")
    await page.get_by_role("button", name=re.compile("Create account|Создать аккаунт")).click()
    refusal = page.get_by_text("the password must not repeat a few characters")
    await expect(refusal).to_be_visible()
    refusal_id = await refusal.get_attribute("id")
    assert refusal_id
    await expect(password).to_have_attribute("aria-describedby", re.compile(refusal_id))
    await screens.shot(page, "signup-refused")
    await password.fill(PASSWORD)
    await page.get_by_role("button", name=re.compile("Create account|Создать аккаунт")).click()
    await expect(page.get_by_role("status")).to_contain_text(email)
    await screens.shot(page, "check-email")
    link = next(link for link in mail_to(mail, email, "confirm").links if "verify-email" in link)
    await page.goto(link)
    await expect(page.get_by_role("status")).to_contain_text(re.compile("confirmed|подтверждена"))
    await screens.shot(page, "email-confirmed")


async def _log_in(page: Page, screens: Screens, email: str) -> None:
    await page.goto(page.url.split("/app")[0] + "/app/login")
    await screens.shot(page, "login")
    await page.get_by_label(re.compile("^(Email|Почта)")).fill(email)
    await page.get_by_label(re.compile("^(Password|Пароль)")).fill(PASSWORD)
    await page.get_by_role("button", name=re.compile("^(Log in|Войти)$")).click()
    await expect(page.get_by_role("heading", level=2)).to_have_text(
        re.compile("Getting started|С чего начать")
    )


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_newcomer_signs_up_and_gets_a_webhook_url(
    browser: Browser, web: Junction, mail_capture: MailCapture, screens: Screens, language: str
) -> None:
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    page = await _page(browser, web, language)
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await _sign_up(
        page, mail_capture, screens, email, "Чайная лавка" if language == "ru" else "Tea shop"
    )
    await _log_in(page, screens, email)

    # The checklist, from live data: nothing done yet.
    steps = page.locator("[data-step]")
    await expect(steps).to_have_count(5)
    await expect(page.locator("[data-step][data-done=true]")).to_have_count(0)
    await screens.shot(page, "onboarding")

    # Every screen answers, with its empty state where there is nothing yet.
    for name in [
        "connections",
        "plugins",
        "events",
        "billing",
        "members",
        "alerts",
        "audit",
        "endpoints",
    ]:
        await page.get_by_role("navigation").locator(f"a[href='/app/{name}']").click()
        await expect(page).to_have_url(re.compile(f"/app/{name}$"))
        await expect(page.get_by_role("heading", level=2)).to_be_visible()
        await expect(page.get_by_role("alert")).to_have_count(0)
        await screens.shot(page, name)

    # The workspace has no plugin yet: an endpoint needs one; the form says what is missing.
    await page.get_by_role("button", name=re.compile("^(Create|Создать)$")).click()
    await expect(page.get_by_text(re.compile("Required|Обязательное поле")).first).to_be_visible()


def _account(web: Junction, mail: MailCapture, email: str, workspace: str) -> None:
    """An account made and confirmed through the API (the browser journey above covers
    doing it on the pages)."""
    made = httpx.post(
        f"{web.base}/api/auth/signup",
        json={"email": email, "password": PASSWORD, "workspace": workspace},
        timeout=10,
    )
    assert made.status_code == 202, made.text
    token = link_token(mail_to(mail, email, "confirm"))
    confirmed = httpx.post(f"{web.base}/api/auth/verify-email", json={"token": token}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text


async def _logged_in(browser: Browser, web: Junction, screens: Screens, email: str) -> Page:
    page = await _page(browser, web, "en")
    await _log_in(page, screens, email)
    return page


async def _switch_to(page: Page) -> Page:
    """The person turns to this browser window (the app refreshes what is on screen)."""
    await page.bring_to_front()
    return page


async def test_staff_install_a_plugin_and_the_tenant_replays_a_failed_order(
    browser: Browser, web: Junction, mail_capture: MailCapture, screens: Screens
) -> None:
    suffix = uuid.uuid4().hex[:6]
    staff_email, owner_email = f"ops-{suffix}@example.com", f"owner-{suffix}@example.com"
    _account(web, mail_capture, staff_email, f"Junction ops {suffix}")
    _account(web, mail_capture, owner_email, f"Tea shop {suffix}")
    web.command("staff", "grant", staff_email)

    # Staff find the tenant and install the echo plugin for it.
    staff = await _logged_in(browser, web, screens, staff_email)
    await staff.get_by_role("link", name="Staff console").click()
    await staff.get_by_label("Find a tenant").fill(f"tea-shop-{suffix}")
    row = staff.locator(f"[data-tenant='tea-shop-{suffix}']")
    await expect(row).to_have_count(1)
    await row.get_by_label("Plugin").click()
    await staff.get_by_role("option", name="echo").click()
    await row.get_by_role("button", name="Install").click()
    await expect(row).to_contain_text("echo")
    await screens.shot(staff, "staff-console")

    # The tenant makes a webhook URL for it.
    owner = await _logged_in(browser, web, screens, owner_email)
    await owner.get_by_role("navigation").get_by_role("link", name="Webhook URLs").click()
    await owner.get_by_label("Name").fill("Shop")
    await owner.get_by_label("Format").first.click()
    await owner.get_by_role("option", name=re.compile("Echo")).click()
    await owner.get_by_label("Sends its events to").first.click()
    await owner.get_by_role("option", name="echo").click()
    await owner.get_by_role("button", name="Create").click()
    url = (await owner.get_by_test_id("webhook-url").inner_text()).strip()
    assert url.startswith(f"{web.base}/hooks/")
    await expect(owner.get_by_text("curl -X POST")).to_be_visible()
    await screens.shot(owner, "endpoint-created")
    # A signing secret: made after a warning, shown, then turned off again.
    await owner.get_by_role("button", name="New signing secret").click()
    await expect(owner.get_by_text(re.compile("refused from now on"))).to_be_visible()
    await owner.get_by_role("button", name="Make it").click()
    await expect(owner.get_by_test_id("signing-secret")).to_have_text(re.compile(r"^\S{40,}$"))
    await expect(owner.get_by_text("Deliveries must be signed")).to_be_visible()
    await screens.shot(owner, "signing-secret")
    await owner.get_by_role("button", name="Stop checking signatures").click()
    await expect(owner.get_by_text("Deliveries are not checked for a signature.")).to_be_visible()

    # An order that fails for good, then replayed from its page.
    await _switch_to(owner)
    sent = httpx.post(url, json={"order_id": "F-1", "echo_fail": "permanent"}, timeout=10)
    assert sent.status_code == 202
    await owner.get_by_role("navigation").get_by_role("link", name="Events").click()
    failed = owner.locator("tr[data-event]").filter(has_text="Failed")
    await expect(failed).to_have_count(1)  # the list updates by itself
    await screens.shot(owner, "events")
    await failed.get_by_role("link").click()
    await expect(owner.get_by_role("alert")).to_contain_text("payload asked to fail")
    await owner.get_by_role("button", name="Replay").click()
    await expect(owner.get_by_text("#2 · failed")).to_be_visible()
    await screens.shot(owner, "event-replayed")

    # The checklist knows the webhook URL exists and an order was sent.
    await owner.get_by_role("navigation").get_by_role("link", name="Getting started").click()
    await expect(owner.locator("[data-step=webhook]")).to_have_attribute("data-done", "true")
    await expect(owner.locator("[data-step=sent]")).to_have_attribute("data-done", "true")
    await expect(owner.locator("[data-step=connected]")).to_have_attribute("data-done", "false")
    await screens.shot(owner, "onboarding-progress")


async def test_a_tenant_connects_amocrm_and_configures_from_its_lists(
    browser: Browser, web: Junction, mail_capture: MailCapture, screens: Screens
) -> None:
    suffix = uuid.uuid4().hex[:6]
    staff_email, owner_email = f"ops-{suffix}@example.com", f"owner-{suffix}@example.com"
    _account(web, mail_capture, staff_email, f"Junction ops {suffix}")
    _account(web, mail_capture, owner_email, f"Flower shop {suffix}")
    web.command("staff", "grant", staff_email)
    staff = await _logged_in(browser, web, screens, staff_email)
    await staff.get_by_role("link", name="Staff console").click()
    await staff.get_by_label("Find a tenant").fill(f"flower-shop-{suffix}")
    row = staff.locator(f"[data-tenant='flower-shop-{suffix}']")
    await row.get_by_label("Plugin").click()
    await staff.get_by_role("option", name="order_to_lead").click()
    await row.get_by_role("button", name="Install").click()
    await expect(row).to_contain_text("order_to_lead")

    # Connecting amoCRM: its consent page, then back to the connections page.
    owner = await _logged_in(browser, web, screens, owner_email)
    await owner.get_by_role("navigation").get_by_role("link", name="Connections").click()
    await owner.get_by_role("button", name="Connect amoCRM").click()
    await expect(owner.get_by_role("heading", level=1)).to_contain_text("Allow access")
    await screens.shot(owner, "amocrm-consent")
    await owner.get_by_role("button", name="Allow").click()
    await expect(owner).to_have_url(re.compile("/app/connections\\?connected=amocrm"))
    await expect(owner.locator("[data-connection=amocrm]")).to_contain_text("Healthy")
    await screens.shot(owner, "connected")

    # The plugin's form offers the account's pipelines, statuses and fields.
    await owner.get_by_role("navigation").get_by_role("link", name="Plugins").click()
    await owner.get_by_role("link", name="Configure").click()
    await owner.get_by_label("Pipeline Id").first.click()
    options = owner.get_by_role("option")
    await expect(options.first).to_be_visible()
    first_pipeline = (await options.first.inner_text()).strip()
    await options.first.click()
    await owner.get_by_label("Status Id").first.click()
    await expect(owner.get_by_role("option").first).to_be_visible()
    await owner.get_by_role("option").first.click()
    # A number cannot go into a date field: the editor refuses the pair.
    await owner.get_by_label("Order field", exact=True).first.click()
    await owner.get_by_role("option", name="total (number)", exact=True).click()
    await owner.get_by_label("Lead field", exact=True).first.click()
    await owner.get_by_role("option", name="Order date (date)", exact=True).click()
    await expect(owner.get_by_text("A number value cannot go into a date field")).to_be_visible()
    await expect(owner.get_by_role("button", name="Add")).to_be_disabled()
    await screens.shot(owner, "plugin-form")
    assert first_pipeline
