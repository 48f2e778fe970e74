"""Loading plugins and answering what they contribute.

The registry is built once per process (API, worker, CLI) and kept on its state; it is
never a module global, so tests can build one with extra plugins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy
from pydantic import BaseModel, ValidationError

from junction.plugins import hookspecs
from junction.plugins.interfaces import (
    ConnectionProvider,
    Integration,
    PluginInfo,
    Sandbox,
    Source,
)
from junction.validation import describe

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME


class PluginError(Exception):
    """A plugin is missing, broken, or was given configuration it refuses."""


@dataclass
class LoadedPlugin:
    info: PluginInfo
    distribution: str | None
    distribution_version: str | None
    sources: list[Source] = field(default_factory=list)
    providers: list[ConnectionProvider] = field(default_factory=list)
    sandboxes: list[Sandbox] = field(default_factory=list)
    integration: Integration | None = None


@dataclass
class PluginRegistry:
    manager: pluggy.PluginManager
    plugins: dict[str, LoadedPlugin]
    sources: dict[str, Source]
    providers: dict[str, ConnectionProvider]
    sandboxes: dict[str, Sandbox]

    def plugin(self, name: str) -> LoadedPlugin:
        try:
            return self.plugins[name]
        except KeyError:
            raise PluginError(f"plugin {name!r} is not loaded") from None

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise PluginError(f"source format {name!r} is not provided by any plugin") from None

    def validate_config(self, plugin_name: str, config: dict[str, Any]) -> BaseModel:
        model = self.plugin(plugin_name).info.config_model
        try:
            return model.model_validate(config)
        except ValidationError as exc:
            problems = describe(exc, root="(config)")
            raise PluginError(f"invalid config for plugin {plugin_name!r}: {problems}") from None


def build_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> PluginRegistry:
    """Load every plugin of the `junction` entry-point group, plus `extra_plugins`."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, plugin in extra_plugins:
        manager.register(plugin, name=name)
    manager.check_pending()
    return _collect(manager)


def _collect(manager: pluggy.PluginManager) -> PluginRegistry:
    distributions = {
        id(plugin): (dist.project_name, dist.version)
        for plugin, dist in manager.list_plugin_distinfo()
    }
    plugins: dict[str, LoadedPlugin] = {}
    sources: dict[str, Source] = {}
    providers: dict[str, ConnectionProvider] = {}
    sandboxes: dict[str, Sandbox] = {}

    for registered_name, plugin in manager.list_name_plugin():
        info = _call_own(manager, plugin, "junction_plugin")
        if not isinstance(info, PluginInfo):
            raise PluginError(
                f"plugin registered as {registered_name!r} does not describe itself "
                "(junction_plugin must return a PluginInfo)"
            )
        if info.name in plugins:
            raise PluginError(f"two plugins are named {info.name!r}")
        dist_name, dist_version = distributions.get(id(plugin), (None, None))
        loaded = LoadedPlugin(info=info, distribution=dist_name, distribution_version=dist_version)
        loaded.sources = list(_call_own(manager, plugin, "junction_sources") or [])
        loaded.providers = list(_call_own(manager, plugin, "junction_connection_providers") or [])
        loaded.integration = _call_own(manager, plugin, "junction_integration")
        loaded.sandboxes = list(_call_own(manager, plugin, "junction_sandboxes") or [])
        for sandbox in loaded.sandboxes:
            if sandbox.name in sandboxes:
                raise PluginError(f"two plugins provide the sandbox {sandbox.name!r}")
            sandboxes[sandbox.name] = sandbox
        for source in loaded.sources:
            if source.name in sources:
                raise PluginError(f"two plugins provide the source format {source.name!r}")
            sources[source.name] = source
        for provider in loaded.providers:
            if provider.name in providers:
                raise PluginError(f"two plugins provide the connection provider {provider.name!r}")
            providers[provider.name] = provider
        plugins[info.name] = loaded

    return PluginRegistry(
        manager=manager, plugins=plugins, sources=sources, providers=providers, sandboxes=sandboxes
    )


def _call_own(manager: pluggy.PluginManager, plugin: object, hook_name: str) -> Any:
    """Call one plugin's implementation of a hook, so results stay tied to the plugin."""
    caller = getattr(manager.hook, hook_name)
    for impl in caller.get_hookimpls():
        if impl.plugin is plugin:
            return cast(Any, impl.function)()
    return None
