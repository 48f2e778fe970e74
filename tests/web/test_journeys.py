"""Journeys through the web app in Chromium, in English and in Russian."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from junction.accounts.capture import MailCapture
from tests.support.mail import link_token, mail_to
from tests.support.processes import Junction
from tests.support.receiver import Receiver, signed_by
from tests.support.stripe import StripeDesk, stripe_signature
from tests.web.conftest import Screens

pytestmark = [pytest.mark.processes]

PASSWORD = "a long tea-shop password"
OPENCART_ORDER = (
    Path(__file__).parents[2]
    / "plugins/shops/tests/real-payloads/opencart/arastta_getOrder_order18.json"
)


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
    # Log in with the keyboard alone: type, Tab to the next field, Enter submits.
    await page.goto(f"{web.base}/app/login")
    await page.get_by_label(re.compile("^(Email|Почта)")).focus()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=2)).to_have_text(
        re.compile("Getting started|С чего начать")
    )
    # The menu works from the keyboard too.
    await page.get_by_role("navigation").locator("a[href='/app/events']").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile("/app/events$"))
    await page.get_by_role("navigation").locator("a[href='/app']").click()

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


async def _install_as_staff(staff: Page, slug: str, plugin: str, title: str) -> None:
    """In the staff console: find the tenant, install the plugin (picked by its title)."""
    await staff.get_by_role("link", name="Staff console").click()
    await staff.get_by_label("Find a tenant").fill(slug)
    row = staff.locator(f"[data-tenant='{slug}']")
    await expect(row).to_have_count(1)
    await row.get_by_label("Plugin").click()
    await staff.get_by_role("option", name=title, exact=True).click()
    await row.get_by_role("button", name="Install").click()
    await expect(row).to_contain_text(plugin)


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
    await _install_as_staff(staff, f"tea-shop-{suffix}", "echo", "Echo")
    await screens.shot(staff, "staff-console")

    # The tenant makes a webhook URL for it.
    owner = await _logged_in(browser, web, screens, owner_email)
    url = await _new_webhook_url(owner, "Shop", re.compile("Echo"), "Echo")
    assert url.startswith(f"{web.base}/hooks/")
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
    # Every failed order at once, followed until the replay is over.
    await owner.get_by_role("navigation").get_by_role("link", name="Events").click()
    await _pick(owner, "Status", "Failed")
    await owner.get_by_role("button", name="Replay all shown").click()
    await expect(owner.get_by_role("status").filter(has_text="Replay finished")).to_have_text(
        "Replay finished: 0 done, 1 failed, 0 paused."
    )
    await screens.shot(owner, "replay-finished")

    # Staff see the failed order across tenants, and the tenant's plugins.
    await _switch_to(staff)
    await staff.reload()
    failing = staff.locator("[data-failing]").filter(has_text=f"tea-shop-{suffix}")
    await expect(failing).to_contain_text("payload asked to fail")
    await failing.get_by_role("link", name=f"tea-shop-{suffix}").click()
    await expect(staff.get_by_role("heading", level=2)).to_have_text(f"Tea shop {suffix}")
    echo = staff.locator("[data-installation=echo]")
    await expect(echo).to_contain_text("Configured")
    await expect(echo.get_by_role("cell").nth(2)).to_have_text("1")
    await expect(staff.locator("[data-failing]")).to_have_count(1)
    await screens.shot(staff, "staff-tenant")

    # Staff look inside the workspace, read-only under a banner, and leave.
    await staff.get_by_role("link", name="Staff console").click()
    await staff.get_by_label("Find a tenant").fill(f"tea-shop-{suffix}")
    row = staff.locator(f"[data-tenant='tea-shop-{suffix}']")
    await row.get_by_role("button", name="Look inside").click()
    banner = staff.get_by_role("status").filter(has_text="Read-only view")
    await expect(banner).to_contain_text(f"Tea shop {suffix}")
    # The header names the workspace looked at; there is no switching from inside it.
    await expect(staff.get_by_role("banner")).to_contain_text(f"Tea shop {suffix}")
    await expect(staff.get_by_role("combobox", name="Workspace")).to_have_count(0)
    await staff.get_by_role("navigation").get_by_role("link", name="Events").click()
    await staff.locator("tr[data-event]").first.get_by_role("link").click()
    await expect(staff.get_by_text("Attempts").first).to_be_visible()
    await expect(staff.get_by_role("button", name="Replay")).to_have_count(0)
    await screens.shot(staff, "read-only-view")
    await banner.get_by_role("button", name="Leave").click()
    await expect(staff).to_have_url(re.compile("/app/staff$"))
    await expect(staff.get_by_role("combobox", name="Workspace")).to_have_value(
        f"Junction ops {suffix}"
    )

    # Suspended, the workspace's orders are taken and wait; resumed, they go through.
    await staff.get_by_label("Find a tenant").fill(f"tea-shop-{suffix}")
    await row.get_by_role("button", name="Suspend").click()
    await expect(row).to_contain_text("Suspended")
    await screens.shot(staff, "tenant-suspended")
    assert httpx.post(url, json={"order": "while suspended"}, timeout=10).status_code == 202
    await _switch_to(owner)
    await owner.goto(f"{web.base}/app/events")  # every event, not the failed ones shown
    waiting = owner.locator("tr[data-event]").filter(has_text="paused")
    await expect(waiting).to_have_count(1, timeout=20_000)
    await _switch_to(staff)
    await row.get_by_role("button", name="Resume").click()
    await expect(row).to_contain_text("Active")
    await _switch_to(owner)
    await expect(waiting).to_have_count(0, timeout=20_000)
    await expect(owner.locator("tr[data-event]")).to_have_count(2)
    await expect(owner.locator("tr[data-event]").filter(has_text="done")).to_have_count(1)


def _opencart_order(order_id: str, partner: str) -> dict[str, Any]:
    """A real OpenCart delivery (the shops plugin's fixture), as the tenant's shop sends it."""
    order: dict[str, Any] = json.loads(OPENCART_ORDER.read_text())
    return {**order, "order_id": order_id, "customer_id": partner}


async def _pick(
    page: Page, field: str | re.Pattern[str] | Locator, option: str | re.Pattern[str]
) -> None:
    await (field if isinstance(field, Locator) else page.get_by_label(field).first).click()
    await page.get_by_role("option", name=option).first.click()


async def _new_webhook_url(
    page: Page, name: str, shop_format: str | re.Pattern[str], plugin: str
) -> str:
    """Make a webhook URL on its page; returns the URL shown."""
    await page.get_by_role("navigation").get_by_role("link", name="Webhook URLs").click()
    await page.get_by_label("Name").fill(name)
    await _pick(page, "Format", shop_format)
    await _pick(page, "Sends its events to", plugin)
    await page.get_by_role("button", name="Create").click()
    return (await page.get_by_test_id("webhook-url").inner_text()).strip()


async def _event_row(page: Page, status: str) -> Locator:
    await page.get_by_role("navigation").get_by_role("link", name="Events").click()
    row = page.locator("tr[data-event]").filter(has_text=status)
    await expect(row).to_have_count(1)  # the list updates by itself
    return row


async def test_from_sign_up_to_a_lead_in_amocrm_then_a_failed_order_fixed_and_replayed(
    browser: Browser,
    web: Junction,
    mail_capture: MailCapture,
    screens: Screens,
    sandbox: httpx.Client,
) -> None:
    """The whole onboarding in the browser: sign up, staff install order → lead, connect
    amoCRM on its consent page, make the webhook URL, configure the plugin from the
    account's lists, a shop order becomes a lead; then an order a mapping cannot take
    fails, the mapping is fixed and the order replayed into a lead."""
    suffix = uuid.uuid4().hex[:6]
    staff_email, owner_email = f"ops-{suffix}@example.com", f"owner-{suffix}@example.com"
    owner = await _page(browser, web, "en")
    await owner.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await _sign_up(owner, mail_capture, screens, owner_email, f"Flower shop {suffix}")
    await _log_in(owner, screens, owner_email)

    _account(web, mail_capture, staff_email, f"Junction ops {suffix}")
    web.command("staff", "grant", staff_email)
    staff = await _logged_in(browser, web, screens, staff_email)
    await _install_as_staff(staff, f"flower-shop-{suffix}", "order_to_lead", "Order → lead")

    # 1. Connect amoCRM: its consent page, then back to the connections page.
    await _switch_to(owner)
    await owner.get_by_role("navigation").get_by_role("link", name="Connections").click()
    await owner.get_by_role("button", name="Connect amoCRM", exact=True).click()
    await expect(owner.get_by_role("heading", level=1)).to_contain_text("Allow access")
    await screens.shot(owner, "amocrm-consent")
    await owner.get_by_role("button", name="Allow").click()
    await expect(owner).to_have_url(re.compile("/app/connections\\?connected=amocrm"))
    await expect(owner.locator("[data-connection=amocrm]")).to_contain_text("Healthy")
    await screens.shot(owner, "connected")

    # 2. The webhook URL for the shop, copied.
    url = await _new_webhook_url(owner, "Flower shop", re.compile("OpenCart"), "Order → lead")
    await expect(owner.get_by_text(f"curl -X POST '{url}'")).to_be_visible()
    await owner.get_by_role("button", name="Copy the webhook URL").click()
    assert await owner.evaluate("navigator.clipboard.readText()") == url

    # 3. Order → lead configured from the account's lists.
    await owner.get_by_role("navigation").get_by_role("link", name="Plugins").click()
    await owner.get_by_role("link", name="Configure").click()
    # Saving with nothing chosen: the form says what is missing, before asking the server.
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_text("Required").first).to_be_visible()
    await _pick(owner, re.compile("^Pipeline"), "Orders")
    await _pick(owner, re.compile("^Stage"), "New order")
    partner = owner.locator("fieldset", has_text="Partner's contact")
    await partner.get_by_label(re.compile("^Contact field with the partner id")).click()
    await owner.get_by_role("option", name="Partner ID · text").click()
    await partner.get_by_label(re.compile("^When no contact has the partner id")).click()
    await owner.get_by_role("option", name="Create the contact").click()
    mapping = owner.locator("fieldset", has_text="Field mapping")
    # A number cannot go into a date field: the editor refuses the pair.
    await mapping.get_by_label("Order field", exact=True).fill("total")
    await _pick(owner, mapping.get_by_label("amoCRM field", exact=True), "Order date · date")
    await expect(mapping.get_by_text("A number value cannot go into a date field")).to_be_visible()
    await expect(mapping.get_by_role("button", name="Add")).to_be_disabled()
    await _pick(owner, mapping.get_by_label("amoCRM field", exact=True), "Order total · numeric")
    await mapping.get_by_role("button", name="Add").click()
    await expect(mapping.locator("[data-row=total]")).to_contain_text("Order total")
    await mapping.get_by_label("Order field", exact=True).fill("shipping_method")
    await _pick(owner, mapping.get_by_label("amoCRM field", exact=True), "Delivery · select")
    await mapping.get_by_role("button", name="Add").click()
    await owner.get_by_label(re.compile("^Lead name")).fill("Order {{ order.id }} from the web")
    await owner.get_by_role("combobox", name="Tags").fill("web-shop")
    await owner.keyboard.press("Enter")
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    await screens.shot(owner, "plugin-configured")
    # The preview shows the exact requests, and what would stop this order.
    await owner.get_by_role("button", name="Show the requests").click()
    await expect(owner.get_by_text(re.compile("^POST /api/v4/leads\\n"))).to_be_visible()
    await screens.shot(owner, "plugin-preview")

    # 4. A test order from the webhook URL's page; 5. it becomes a lead.
    await owner.get_by_role("navigation").get_by_role("link", name="Webhook URLs").click()
    await owner.get_by_role("button", name="Send a test order").click()
    sent = owner.get_by_role("status").filter(has_text="Test order")
    await expect(sent).to_be_visible()
    test_order = re.search(r"Test order (\S+) sent", await sent.inner_text())
    assert test_order
    await screens.shot(owner, "test-order-sent")
    done = await _event_row(owner, "Done")
    await screens.shot(owner, "first-lead")
    await owner.get_by_role("navigation").get_by_role("link", name="Getting started").click()
    for step in ["connected", "webhook", "configured", "sent", "lead"]:
        await expect(owner.locator(f"[data-step={step}]")).to_have_attribute("data-done", "true")
    await screens.shot(owner, "onboarding-done")
    account = sandbox.get(f"/_sandbox/accounts/{_demo_account(sandbox)}").json()
    [lead] = [lead for lead in account["leads"] if test_order[1] in lead["name"]]
    assert lead["name"] == f"Order {test_order[1]} from the web"
    assert [tag["name"] for tag in lead["_embedded"]["tags"]] == ["web-shop"]
    assert lead["price"] == 1200
    [contact] = [
        c for c in account["contacts"] if c["id"] == lead["_embedded"]["contacts"][0]["id"]
    ]
    assert "700100" in json.dumps(contact["custom_fields_values"])
    assert done

    # A second order's shipping method is not one of the Delivery field's options.
    failing = _opencart_order(f"W{suffix}-2", "700100")
    assert httpx.post(url, json=failing, timeout=10).status_code == 202
    failed = await _event_row(owner, "Failed")
    await failed.get_by_role("link").click()
    await expect(owner.get_by_role("alert")).to_contain_text(
        "'Flat Shipping Rate' is not one of its options (Courier, Pickup)"
    )
    await screens.shot(owner, "order-failed")
    event_page = owner.url
    # The mapping is fixed (shipping goes to no field), then the order replayed.
    await owner.get_by_role("navigation").get_by_role("link", name="Plugins").click()
    await owner.get_by_role("link", name="Configure").click()
    await owner.get_by_role("button", name="Remove shipping_method").click()
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    await owner.goto(event_page)
    await owner.get_by_role("button", name="Replay").click()
    await expect(owner.get_by_text("#2 · done")).to_be_visible()
    await screens.shot(owner, "order-replayed")
    account = sandbox.get(f"/_sandbox/accounts/{_demo_account(sandbox)}").json()
    assert [lead for lead in account["leads"] if lead["name"] == f"Order W{suffix}-2 from the web"]

    # The same workspace in Russian: every screen, with its data, in the other language.
    await owner.get_by_text("Русский").click()
    await expect(owner.locator("html")).to_have_attribute("lang", "ru")
    for name, heading, shown in [
        ("", "С чего начать", owner.get_by_text("Готово")),
        ("connections", "Подключения", owner.get_by_text("amoCRM: Sandbox Shop")),
        ("endpoints", "Адреса вебхуков", owner.get_by_text("OpenCart (поля и товары getOrder)")),
        ("plugins", "Плагины", owner.get_by_text("Заказ → сделка")),
        ("events", "События", owner.get_by_text("выполнено")),
        ("members", "Участники", owner.get_by_role("cell", name=owner_email)),
        # Who changed what, in words: the mapping that was removed, by the person.
        ("audit", "Журнал изменений", owner.get_by_text("config.mappings.shipping_method")),
    ]:
        await (
            owner.get_by_role("navigation")
            .locator(f"a[href='/app{'/' if name else ''}{name}']")
            .click()
        )
        await expect(owner.get_by_role("heading", level=2)).to_have_text(heading)
        await expect(shown.first).to_be_visible()
        await screens.shot(owner, name or "onboarding")
    changed = owner.get_by_role("row").filter(has_text="config.mappings.shipping_method")
    await expect(changed.first).to_contain_text("Изменены настройки плагина")
    await expect(changed.first).to_contain_text(owner_email)
    await owner.get_by_role("navigation").locator("a[href='/app/plugins']").click()
    await owner.get_by_role("link", name="Настроить").click()
    await expect(owner.get_by_role("heading", name="Заказ → сделка")).to_be_visible()
    await expect(owner.get_by_text("Воронка")).to_be_visible()
    await expect(owner.locator("fieldset", has_text="Соответствие полей")).to_be_visible()
    await screens.shot(owner, "plugin-form")
    await owner.get_by_role("navigation").locator("a[href='/app/events']").click()
    await owner.locator("tr[data-event]").first.get_by_role("link").click()
    await expect(owner.get_by_text("Попытки").first).to_be_visible()
    # Dates as Russian readers write them.
    await expect(
        owner.get_by_text(re.compile(r"^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}$")).first
    ).to_be_visible()
    await screens.shot(owner, "event")


def _demo_account(sandbox: httpx.Client) -> int:
    """The account the sandbox's consent page connects when none is named."""
    account: int = sandbox.get("/_sandbox/integration").json()["account_id"]
    return account


async def test_an_owner_invites_a_colleague_changes_their_role_and_removes_them(
    browser: Browser, web: Junction, mail_capture: MailCapture, screens: Screens
) -> None:
    suffix = uuid.uuid4().hex[:6]
    owner_email, colleague_email = f"owner-{suffix}@example.com", f"anna-{suffix}@example.com"
    _account(web, mail_capture, owner_email, f"Tea shop {suffix}")
    _account(web, mail_capture, colleague_email, f"Anna's own {suffix}")
    owner = await _logged_in(browser, web, screens, owner_email)
    await owner.get_by_role("navigation").get_by_role("link", name="Members").click()
    await owner.get_by_label("Email to invite").fill(colleague_email)
    await owner.get_by_role("button", name="Invite").click()
    await expect(
        owner.get_by_role("status").filter(has_text="The invitation is on its way.")
    ).to_be_visible()

    # The colleague opens the emailed link before logging in: log in, then back to it.
    link = next(
        link
        for link in mail_to(mail_capture, colleague_email, "invited").links
        if "accept-invitation" in link
    )
    colleague = await _page(browser, web, "en")
    await colleague.goto(link)
    await colleague.get_by_role("link", name="Log in").click()
    await colleague.get_by_label(re.compile("^Email")).fill(colleague_email)
    await colleague.get_by_label(re.compile("^Password")).fill(PASSWORD)
    await colleague.get_by_role("button", name="Log in").click()
    await expect(colleague.get_by_text(f"You are signed in as {colleague_email}")).to_be_visible()
    await screens.shot(colleague, "invitation")
    await colleague.get_by_role("button", name="Join").click()
    await expect(colleague.get_by_role("combobox", name="Workspace")).to_have_value(
        f"Tea shop {suffix}"
    )

    # The owner sees them, makes them an admin, then takes them out again.
    await owner.reload()
    row = owner.locator(f"[data-member='{colleague_email}']")
    await expect(row).to_contain_text(colleague_email)
    await _pick(owner, row.get_by_role("combobox", name=f"Role of {colleague_email}"), "Admin")
    await owner.reload()
    await expect(row.get_by_role("combobox", name=f"Role of {colleague_email}")).to_have_value(
        "Admin"
    )
    # The owner's own role is not theirs to change here; the last owner cannot leave.
    mine = owner.locator(f"[data-member='{owner_email}']")
    await mine.get_by_role("button", name="Leave the workspace").click()
    await mine.get_by_role("button", name="Yes, leave").click()
    await expect(mine.get_by_role("alert")).to_be_visible()
    await screens.shot(owner, "members")
    await row.get_by_role("button", name="Remove").click()
    await row.get_by_role("button", name=f"Remove {colleague_email}").click()
    await expect(row).to_have_count(0)

    # A key for a program: shown once, used, then revoked.
    await owner.get_by_label("Name").fill("shop sync")
    await owner.get_by_role("button", name="Create a key").click()
    key = (await owner.get_by_test_id("new-api-key").inner_text()).strip()
    program = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{web.base}/api/events", headers=program, timeout=10).status_code == 200
    await owner.reload()
    held = owner.locator("[data-key='shop sync']")
    await expect(held).to_contain_text("Viewer")
    await expect(held).not_to_contain_text("never")
    await expect(owner.get_by_test_id("new-api-key")).to_have_count(0)
    await screens.shot(owner, "api-keys")
    await held.get_by_role("button", name="Revoke").click()
    await held.get_by_role("button", name="Revoke shop sync").click()
    await expect(held).to_contain_text("Revoked")
    assert httpx.get(f"{web.base}/api/events", headers=program, timeout=10).status_code == 401

    # The owner's own account: a new email, confirmed from the link sent to it.
    await owner.get_by_role("link", name=f"Your account ({owner_email})").click()
    await expect(owner.get_by_role("heading", level=2)).to_have_text("Your account")
    new_email = f"owner-{suffix}@tea.example.com"
    await owner.get_by_label("New email").fill(owner_email)
    await owner.get_by_role("button", name="Change email").click()
    await expect(owner.get_by_text("This is already your email")).to_be_visible()
    await owner.get_by_label("New email").fill(new_email)
    await owner.get_by_label("Current password").fill("not the password")
    await owner.get_by_role("button", name="Change email").click()
    # The server's refusal stands at the password field.
    refusal = owner.get_by_text("the password is wrong")
    await expect(refusal).to_be_visible()
    await expect(owner.get_by_label("Current password")).to_have_attribute(
        "aria-describedby", re.compile(str(await refusal.get_attribute("id")))
    )
    await owner.get_by_label("Current password").fill(PASSWORD)
    await owner.get_by_role("button", name="Change email").click()
    await expect(
        owner.get_by_role("status").filter(has_text=f"A link is on its way to {new_email}")
    ).to_be_visible()
    await screens.shot(owner, "account")
    confirm = next(
        link for link in mail_to(mail_capture, new_email, "").links if "confirm-email" in link
    )
    await owner.goto(confirm)
    await expect(owner.get_by_role("status")).to_contain_text("Your new email is confirmed")
    await owner.goto(f"{web.base}/app/account")
    await expect(owner.get_by_text(f"You log in as {new_email}.")).to_be_visible()


async def test_a_tenant_connects_mobcash_by_pasting_a_browser_session(
    browser: Browser,
    web: Junction,
    mail_capture: MailCapture,
    screens: Screens,
    mobcash: httpx.Client,
    mobcash_url: str,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    owner_email = f"owner-{suffix}@example.com"
    _account(web, mail_capture, owner_email, f"Cash desk {suffix}")
    cashbox = mobcash.post("/_sandbox/cashboxes", json={"balance": "1000"}).json()
    copied = mobcash.post(f"/_sandbox/cashboxes/{cashbox['code']}/browser-session", json={})
    session = copied.json()
    owner = await _logged_in(browser, web, screens, owner_email)
    await owner.get_by_role("navigation").get_by_role("link", name="Connections").click()
    await owner.get_by_role("button", name="Connect MobCash with credentials").click()
    form = owner.locator("[data-credentials=mobcash]")
    await form.get_by_text("Browser session").click()
    await form.get_by_label(re.compile("^Cash desk address")).fill(mobcash_url)
    await form.get_by_label(re.compile("^Location")).fill("Kassa 1")
    token = form.get_by_label(re.compile("^Access token"))
    await token.fill("short")
    # Checked before asking the server: what is missing, what is too short.
    await form.get_by_role("button", name="Check and save").click()
    await expect(form.get_by_text("At least 8 characters")).to_be_visible()
    await expect(form.get_by_text("Required").first).to_be_visible()
    await screens.shot(owner, "mobcash-form")
    await token.fill(session["access_token"])
    await form.get_by_label(re.compile("^User id")).fill(session["user_id"])
    await form.get_by_label(re.compile("^Session id")).fill(session["session_id"])
    await form.get_by_role("button", name="Check and save").click()
    await expect(owner.locator("[data-connection=mobcash]")).to_contain_text("Healthy")
    await screens.shot(owner, "mobcash-connected")


async def test_an_owner_sees_the_usage_meter_upgrades_through_checkout_and_opens_the_portal(
    browser: Browser,
    billed_web: Junction,
    mail_capture: MailCapture,
    screens: Screens,
    stripe_desk: StripeDesk,
) -> None:
    """Billing on: the free plan's meter fills with the shop's orders; Starter is bought
    at Stripe Checkout and the page follows Stripe's word that it was paid; the portal
    opens. Checkout and the portal are Stripe's own pages, outside the machine: the
    browser is shown a stand-in page at their addresses, and the test does what Stripe
    does once the customer paid (`tests.support.stripe`)."""
    web = billed_web
    suffix = uuid.uuid4().hex[:6]
    email = f"owner-{suffix}@example.com"
    _account(web, mail_capture, email, f"Herb shop {suffix}")
    owner = await _logged_in(browser, web, screens, email)
    stripe_pages: list[str] = []

    async def stand_in(route: Route) -> None:
        stripe_pages.append(route.request.url)
        await route.fulfill(content_type="text/html", body="<h1>Stripe</h1>")

    await owner.route(re.compile(r"https://(checkout|billing)\.stripe\.test/.*"), stand_in)

    # The shop's orders reach the echo plugin the workspace was given at sign-up.
    url = await _new_webhook_url(owner, "Herb shop", re.compile("Echo"), "Echo")
    for number in (1, 2):
        assert httpx.post(url, json={"order_id": f"H-{number}"}, timeout=10).status_code == 202

    # The free plan's meter, and the plans with what Stripe charges.
    await owner.get_by_role("navigation").get_by_role("link", name="Billing").click()
    await expect(owner.get_by_text("2 of 3 events this period")).to_be_visible(timeout=30_000)
    await expect(owner.get_by_role("progressbar", name="Usage this period")).to_have_attribute(
        "aria-valuenow", "67"
    )
    starter = owner.locator("[data-plan=starter]")
    await expect(starter).to_contain_text("€19.00 a month")
    await expect(starter).to_contain_text("14 days' trial")
    await expect(owner.locator("[data-plan=starter-yearly]")).to_contain_text("€190.00 a year")
    await expect(owner.locator("[data-plan=free]")).to_contain_text("Current plan")
    await expect(owner.locator("[data-plan=free]")).to_contain_text("No charge")
    await screens.shot(owner, "billing-free")

    # Starter, bought at Checkout.
    await starter.get_by_role("button", name="Choose").click()
    await expect(owner).to_have_url(re.compile(r"^https://checkout\.stripe\.test/c/pay/"))
    [session] = [
        s for s in stripe_desk.all_sessions() if s.get("success_url", "").startswith(web.base)
    ]
    assert session["url"] == stripe_pages[-1]
    subscription = stripe_desk.pay_checkout(session)
    await owner.goto(session["success_url"])
    # Back before Stripe's word that it was paid: the page waits for it.
    await expect(owner.get_by_role("status").filter(has_text="as soon as Stripe")).to_be_visible()
    body = stripe_desk.checkout_completed(session, subscription["id"])
    delivered = httpx.post(
        f"{web.base}/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": stripe_signature(body), "Content-Type": "application/json"},
        timeout=10,
    )
    assert delivered.status_code == 200, delivered.text
    await expect(
        owner.get_by_role("status").filter(has_text="you are on Starter now")
    ).to_be_visible()
    # The subscription's own period begins with it.
    await expect(owner.get_by_text("0 of 5 events this period")).to_be_visible()
    await expect(owner.get_by_text("Active", exact=True)).to_be_visible()
    await expect(owner.locator("[data-plan=starter]")).to_contain_text("Current plan")
    invoices = owner.get_by_role("table", name="Invoices")
    await expect(invoices).to_contain_text("Paid")
    await expect(invoices).to_contain_text("€19.00")
    await screens.shot(owner, "billing-starter")

    # The portal, to change cards or cancel, returns to this page.
    await owner.get_by_role("button", name="Cards, invoices and cancelling").click()
    await expect(owner).to_have_url(re.compile(r"^https://billing\.stripe\.test/p/session/"))
    portal = stripe_desk.sessions(session["customer"])[-1]
    assert portal["object"] == "billing_portal.session"
    assert portal["return_url"] == f"{web.base}/app/billing"

    # The same page in Russian: sums and dates as Russian readers write them.
    await owner.goto(f"{web.base}/app/billing")
    await owner.get_by_text("Русский").click()
    await expect(owner.locator("[data-plan=starter]")).to_contain_text(
        re.compile(r"19,00\s€ в месяц")
    )
    await expect(owner.get_by_text("Действует", exact=True)).to_be_visible()
    await expect(owner.get_by_role("table", name="Счета")).to_contain_text("Оплачен")
    await screens.shot(owner, "billing")


async def test_an_owner_sets_up_alert_channels_and_tries_each(
    browser: Browser,
    web: Junction,
    mail_capture: MailCapture,
    screens: Screens,
    receiver: Receiver,
) -> None:
    """Notifications: a webhook channel (its secret shown once, the test signed with it),
    an email channel, a Telegram chat refused before asking the server, a channel turned
    off and one removed, the reminder interval, and the alerts sent with their outcome."""
    suffix = uuid.uuid4().hex[:6]
    email = f"owner-{suffix}@example.com"
    _account(web, mail_capture, email, f"Spice shop {suffix}")
    owner = await _logged_in(browser, web, screens, email)
    await owner.get_by_role("navigation").get_by_role("link", name="Notifications").click()
    await expect(owner.get_by_text("No channels: the owners get alerts by email.")).to_be_visible()

    # A webhook: the secret once, then a signed test that arrives.
    await owner.get_by_text("Webhook", exact=True).click()
    await owner.get_by_label("Name").fill("Ops hook")
    await owner.get_by_label("URL").fill(f"{receiver.url}/alerts-{suffix}")
    await owner.get_by_role("button", name="Add").click()
    secret = (await owner.get_by_test_id("channel-secret").inner_text()).strip()
    hook = owner.locator("[data-channel='Ops hook']")
    await hook.get_by_role("button", name="Send a test").click()
    await expect(hook.get_by_role("status")).to_contain_text("The test arrived")
    [arrived] = receiver.wait_for(f"/alerts-{suffix}")
    assert signed_by(secret, arrived.headers["junction-signature"], arrived.body)
    assert arrived.json() == {
        "type": "test",
        "tenant": {"slug": f"spice-shop-{suffix}"},
        "channel": "Ops hook",
    }

    # Telegram: a chat id that cannot be one is refused at its field.
    await owner.get_by_text("Telegram", exact=True).click()
    await owner.get_by_label("Name").fill("Team chat")
    await owner.get_by_label("Chat").fill("team chat")
    await owner.get_by_role("button", name="Add").click()
    await expect(
        owner.get_by_text("A number like -1001234567890, or @channel_name")
    ).to_be_visible()

    # Email: the test reaches the addresses.
    await owner.get_by_text("Email", exact=True).click()
    await owner.get_by_label("Name").fill("Owners")
    await owner.get_by_label("Addresses").fill(f"duty-{suffix}@example.com")
    await owner.get_by_role("button", name="Add").click()
    owners = owner.locator("[data-channel='Owners']")
    await owners.get_by_role("button", name="Send a test").click()
    await expect(owners.get_by_role("status")).to_contain_text(f"duty-{suffix}@example.com")
    assert mail_to(mail_capture, f"duty-{suffix}@example.com", "Test alert")

    # The hook turned off; reminders every 12 hours (a day and a half is refused first).
    await hook.get_by_role("switch", name="Sends alerts").press("Space")
    await expect(hook.get_by_role("switch", name="Sends alerts")).not_to_be_checked()
    reminder = owner.get_by_label("Remind every (hours)")
    await reminder.fill("200")
    await expect(owner.get_by_text("A whole number of hours from 1 to 168")).to_be_visible()
    await reminder.fill("12")
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    sent = owner.get_by_role("table", name="Alerts sent")
    await expect(sent.get_by_role("row")).to_have_count(2)
    await expect(sent).to_contain_text(f"{receiver.url}/alerts-{suffix}: arrived")
    await screens.shot(owner, "notifications")

    # The email channel removed, after confirming.
    await owners.get_by_role("button", name="Remove").click()
    await owners.get_by_role("button", name="Remove Owners").click()
    await expect(owners).to_have_count(0)
    await owner.reload()
    await expect(reminder).to_have_value("12")
    await owner.get_by_text("Русский").click()
    await expect(owner.locator("[data-channel='Ops hook']")).to_contain_text("Вебхук")
    await expect(owner.get_by_role("table", name="Отправленные уведомления")).to_contain_text(
        "доставлено"
    )
    await screens.shot(owner, "notifications")
