"""Hook implementations of the MobCash plugin."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    ConnectionProvider,
    Integration,
    PluginInfo,
    Sandbox,
    SandboxConfig,
    Source,
)
from junction_mobcash.integration import DepositConfig, DepositIntegration, DepositSource
from junction_mobcash.provider import MobCashProvider

try:
    VERSION = version("junction-mobcash")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    VERSION = "0.0.0"

PROVIDER = MobCashProvider()


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="mobcash",
        title="MobCash",
        version=VERSION,
        description="Tops players up from a MobCash cash desk, never twice.",
        i18n={
            "ru": {
                "title": "MobCash",
                "description": "Пополняет счета игроков из кассы MobCash, никогда не дважды.",
            }
        },
        config_model=DepositConfig,
    )


@hookimpl
def junction_sources() -> list[Source]:
    return [DepositSource()]


@hookimpl
def junction_connection_providers() -> list[ConnectionProvider]:
    return [PROVIDER]


@hookimpl
def junction_integration() -> Integration:
    return DepositIntegration(PROVIDER)


def _sandbox_app(config: SandboxConfig) -> Any:
    from junction_mobcash.sandbox import create_app

    return create_app()


def _sandbox_environment(config: SandboxConfig) -> dict[str, str]:
    return {"JUNCTION_MOBCASH_EXTRA_HOSTS": config.base_url}


@hookimpl
def junction_sandboxes() -> list[Sandbox]:
    return [
        Sandbox(
            name="mobcash",
            title="MobCash cash-desk API sandbox",
            create_app=_sandbox_app,
            provider=None,
            environment=_sandbox_environment,
        )
    ]
