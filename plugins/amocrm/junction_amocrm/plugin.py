"""Hook implementations of the amoCRM plugin."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from junction.plugins import hookimpl
from junction.plugins.interfaces import ConnectionProvider, PluginInfo, Sandbox, SandboxConfig
from junction_amocrm.provider import AmoProvider

try:
    VERSION = version("junction-amocrm")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    VERSION = "0.0.0"


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="amocrm",
        title="amoCRM",
        version=VERSION,
        description="Connects amoCRM and Kommo accounts over OAuth2.",
    )


@hookimpl
def junction_connection_providers() -> list[ConnectionProvider]:
    return [AmoProvider()]


def _sandbox_app(config: SandboxConfig) -> Any:
    from junction_amocrm.sandbox.app import SandboxOptions, create_app
    from junction_amocrm.sandbox.state import SandboxState

    return create_app(SandboxState(config.base_url), SandboxOptions(auto_approve=config.demo))


@hookimpl
def junction_sandboxes() -> list[Sandbox]:
    return [Sandbox(name="amocrm", title="amoCRM API v4 sandbox", create_app=_sandbox_app)]
