"""Junction: a multi-tenant integration platform that turns shop orders into amoCRM leads."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("junction")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
