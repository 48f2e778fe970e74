"""The plugin host: hook specifications, the objects plugins return, and the registry."""

import pluggy

from junction.plugins.hookspecs import PROJECT_NAME

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["hookimpl"]
