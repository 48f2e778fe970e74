"""The plugin host: discovery through entry points, the hook contract, dispatch."""

from __future__ import annotations

import inspect
import types
import uuid

import pytest

from junction.plugins import hookspecs
from junction.plugins.interfaces import (
    AttemptLog,
    CredentialsRejected,
    Delivery,
    EventContext,
    PluginInfo,
    SandboxConfig,
)
from junction.plugins.registry import PluginError, build_registry
from tests.plugins import contract_plugin

HOOKS = [
    name
    for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("junction_")
]


def test_bundled_plugins_load_through_their_entry_points() -> None:
    registry = build_registry()
    echo = registry.plugin("echo")
    assert echo.distribution == "junction-echo"
    assert echo.distribution_version == echo.info.version
    assert "echo" in registry.sources
    assert echo.integration is not None


def test_every_hook_is_documented() -> None:
    assert HOOKS, "no hooks found"
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, (
            f"hook {name} needs a docstring saying when it fires and what it returns"
        )


def test_the_contract_plugin_implements_every_hook() -> None:
    implemented = {
        name
        for name, value in vars(contract_plugin).items()
        if callable(value) and hasattr(value, "junction_impl")
    }
    assert implemented == set(HOOKS)


async def test_every_hook_of_the_contract_plugin_is_used() -> None:
    registry = build_registry(extra_plugins=[("contract", contract_plugin)])
    loaded = registry.plugin("contract")
    assert loaded.info.version == "1.2.3"
    assert loaded.distribution is None

    source = registry.source("contract-source")
    delivery = Delivery(
        body=b"{}", content_type="application/json", headers={"x-contract": "k"}, payload={"id": 5}
    )
    assert source.verify(delivery, "k")
    assert not source.verify(delivery, "other")
    assert source.idempotency_key(delivery) == "5"

    provider = registry.providers["contract-provider"]
    assert (await provider.probe({"token": "good"}, {})).ok
    assert not (await provider.probe({"token": "bad"}, {})).ok
    assert (await provider.refresh({"token": "old"}, {})).secrets == {"token": "good"}
    with pytest.raises(CredentialsRejected):
        await provider.refresh({"token": "revoked"}, {})

    sandbox = registry.sandboxes["contract-sandbox"]
    assert sandbox.create_app(SandboxConfig(base_url="http://s")) == "http://s"

    config = registry.validate_config("contract", {"prefix": "p"})
    assert loaded.integration is not None
    context = EventContext(
        tenant_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        attempt=1,
        payload={"id": 9},
        headers={},
        config=config,
        log=AttemptLog(),
    )
    assert await loaded.integration.process_event(context) == {"value": "p:9"}
    assert context.log.entries[0]["message"] == "contract processed"


def test_config_errors_say_what_is_wrong() -> None:
    registry = build_registry(extra_plugins=[("contract", contract_plugin)])
    with pytest.raises(
        PluginError,
        match=r"invalid config for plugin 'contract': prefix: Input should be a valid string",
    ):
        registry.validate_config("contract", {"prefix": 3})
    with pytest.raises(PluginError, match="plugin 'nope' is not loaded"):
        registry.validate_config("nope", {})


def _module(name: str, **functions: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in functions.items():
        setattr(module, key, value)
    return module


def test_two_plugins_with_one_source_name_are_refused() -> None:
    from junction.plugins import hookimpl

    @hookimpl
    def junction_plugin() -> PluginInfo:
        return PluginInfo(name="copycat", title="Copycat", version="0")

    @hookimpl
    def junction_sources() -> list[object]:
        return [contract_plugin.ContractSource()]

    copycat = _module("copycat", junction_plugin=junction_plugin, junction_sources=junction_sources)
    with pytest.raises(
        PluginError, match="two plugins provide the source format 'contract-source'"
    ):
        build_registry(extra_plugins=[("contract", contract_plugin), ("copycat", copycat)])


def test_a_plugin_that_does_not_describe_itself_is_refused() -> None:
    from junction.plugins import hookimpl

    @hookimpl
    def junction_sources() -> list[object]:
        return []

    with pytest.raises(PluginError, match="does not describe itself"):
        build_registry(
            extra_plugins=[("anonymous", _module("anonymous", junction_sources=junction_sources))]
        )
