"""Journeys through the web app in Chromium, in English and in Russian."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Browser, Page, expect

from junction.accounts.capture import MailCapture
from tests.support.mail import mail_to
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
    await page.get_by_label(re.compile("^(Password|Пароль)")).fill(PASSWORD)
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
    for path, name in [
        ("connections", "connections"),
        ("events", "events"),
        ("billing", "billing"),
        ("members", "members"),
        ("alerts", "alerts"),
        ("audit", "audit"),
        ("endpoints", "endpoints"),
    ]:
        await (
            page.get_by_role("navigation")
            .get_by_role("link")
            .nth(
                [
                    "overview",
                    "connections",
                    "endpoints",
                    "events",
                    "billing",
                    "members",
                    "alerts",
                    "audit",
                ].index(name)
            )
            .click()
        )
        await expect(page).to_have_url(re.compile(f"/app/{path}$"))
        await expect(page.get_by_role("heading", level=2)).to_be_visible()
        await expect(page.get_by_role("alert")).to_have_count(0)
        await screens.shot(page, name)

    # The workspace has no plugin yet: an endpoint needs one; the form says what is missing.
    await page.get_by_role("button", name=re.compile("^(Create|Создать)$")).click()
    await expect(page.get_by_text(re.compile("Required|Обязательное поле")).first).to_be_visible()
