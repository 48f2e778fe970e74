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
        i18n={
            "ru": {
                "title": "amoCRM",
                "description": "Подключает аккаунты amoCRM и Kommo по OAuth2.",
            }
        },
    )


@hookimpl
def junction_connection_providers() -> list[ConnectionProvider]:
    return [AmoProvider()]


def _callback_url(config: SandboxConfig) -> str:
    return f"{config.junction_url.rstrip('/')}/connections/amocrm/callback"


def _sandbox_app(config: SandboxConfig) -> Any:
    from junction_amocrm.sandbox.app import SandboxOptions, create_app
    from junction_amocrm.sandbox.state import SandboxState

    state = SandboxState(config.base_url, redirect_uri=_callback_url(config))
    if config.demo:
        _seed_demo_partner(state)
    return create_app(state, SandboxOptions(auto_approve=config.demo))


# The partners the demo's orders come from: partner 1 (tenants/samples) and partner
# 700100 (the sample order each shop format offers, sent by "Send a test order").
DEMO_PARTNERS = {"1": "Demo partner", "700100": "Anna Petrova"}


def _seed_demo_partner(state: Any) -> None:
    """The demo partners' contacts in the demo account, for the demo's sample orders."""
    from junction_amocrm.sandbox.entities import new_contact

    account = state.demo_account
    partner_field = next(f["id"] for f in account.contact_fields if f["name"] == "Partner ID")
    for partner_id, name in DEMO_PARTNERS.items():
        new_contact(
            state,
            account,
            {
                "name": name,
                "custom_fields_values": [
                    {"field_id": partner_field, "values": [{"value": partner_id}]}
                ],
            },
        )


def _sandbox_environment(config: SandboxConfig) -> dict[str, str]:
    from junction_amocrm.sandbox.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    return {
        "JUNCTION_AMOCRM_CLIENT_ID": DEMO_CLIENT_ID,
        "JUNCTION_AMOCRM_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "JUNCTION_AMOCRM_REDIRECT_URI": _callback_url(config),
        "JUNCTION_AMOCRM_CONSENT_URL": f"{config.base_url}/oauth",
        "JUNCTION_AMOCRM_EXTRA_HOSTS": config.base_url,
    }


@hookimpl
def junction_sandboxes() -> list[Sandbox]:
    return [
        Sandbox(
            name="amocrm",
            title="amoCRM API v4 sandbox",
            create_app=_sandbox_app,
            provider="amocrm",
            environment=_sandbox_environment,
        )
    ]
