"""Every test here runs with billing on, against localstripe (`tests.support.stripe`)."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from junction.settings import Settings
from tests.billing.workspace import Workspace, open_workspace
from tests.support.stripe import billing_settings


@pytest.fixture
def settings(settings: Settings, stripe_url: str) -> Settings:
    # Log-ins outlast the month some tests move the clock forward by.
    return billing_settings(settings, stripe_url, session_days=62)


@pytest.fixture
async def shop(app: FastAPI, session: AsyncSession) -> Workspace:
    return await open_workspace(app, session, f"tok-billing-{time.monotonic_ns()}")
