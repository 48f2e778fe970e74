"""The hook specifications: the contract between Junction and its plugins.

A plugin is a module or object with functions named after these hooks and marked with
`junction.plugins.hookimpl`, registered through the `junction` entry-point group::

    [project.entry-points.junction]
    myplugin = "junction_myplugin.plugin"

Hooks take no arguments and return descriptions or objects (see
`junction.plugins.interfaces`); they are called once, when a process starts. A plugin
implements `junction_plugin` and whichever of the others it contributes to.

Contract version: 7 (2 added `junction_sandboxes` and `ConnectionProvider.refresh`;
3 added `Integration.process_batch`, `Integration.max_batch_size`,
`Integration.preview`, `Integration.check_config`, `Integration.clear_cache`,
`Source.acknowledge`, `Source.secret_headers`, `Source.secret_fields` and the event
context's `source_format`, `checkpoint` and `services`; 4 replaced
`ConnectionProvider.can_refresh` with `ConnectionProvider.renewable(secrets)`, since
one provider's credentials may renew (an OAuth grant) or not (a pasted token), and added
`ConnectionProvider.keep_alive` and `ProbeResult.refused`; 5 added
`Integration.config_choices` and `Choice`; 6 added `Source.sample`,
`SampleDelivery`, `ConnectionProvider.consent` and
`ConnectionProvider.credential_forms`; 7 added `PluginInfo.i18n` and `Source.i18n`,
titles and descriptions in other languages).
Hooks are only added; a change to an existing one bumps it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from junction.plugins.interfaces import (
    ConnectionProvider,
    Integration,
    PluginInfo,
    Sandbox,
    Source,
)

PROJECT_NAME = "junction"
CONTRACT_VERSION = 7

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def junction_plugin() -> PluginInfo:  # type: ignore[empty-body]
    """Describe the plugin: its name, title, version and config model.

    Fires when the plugin manager loads the plugin. `name` is what tenants' installations
    refer to and must be unique across loaded plugins. `config_model` is a pydantic model
    that validates a tenant's configuration of the plugin; the default takes none.
    """


@hookspec
def junction_sources() -> Iterable[Source]:  # type: ignore[empty-body]
    """Contribute shop formats (sources) that endpoints can receive.

    Fires at start-up. Each `Source` has a unique `name` (an endpoint's source format)
    and knows how to verify a delivery's signature, what identifies it, and which
    deliveries are only a platform's check (answered, never stored).
    """


@hookspec
def junction_connection_providers() -> Iterable[ConnectionProvider]:  # type: ignore[empty-body]
    """Contribute kinds of connection (amoCRM, MobCash …) that tenants can set up.

    Fires at start-up. Each `ConnectionProvider` has a unique `name`, stored on the
    tenant's connections.
    """


@hookspec
def junction_integration() -> Integration | None:
    """Contribute what the plugin does with events: an `Integration`, or None.

    Fires at start-up. A worker calls the returned object's `process_event` for every
    event that arrives on an endpoint routed to this plugin's installation, and only
    while that installation is enabled. When the integration's `max_batch_size` is above
    1 and the installation has a backlog, the worker calls `process_batch` with up to
    that many due events instead; each still gets its own outcome and log.

    The API calls `preview` for a dry run of a sample delivery, `check_config` when an
    installation's configuration is saved, and `clear_cache` when a tenant asks to.
    """


@hookspec
def junction_sandboxes() -> Iterable[Sandbox]:  # type: ignore[empty-body]
    """Contribute local stand-ins for outside systems (an emulated amoCRM …).

    Fires when `junction sandbox <name>` or the demo starts one. Each `Sandbox` has a
    unique `name` and builds an ASGI application from a `SandboxConfig`.
    """
