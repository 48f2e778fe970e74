"""Hints a plugin's config schema (or a provider's credential form) may carry for the
web app's form, set through pydantic's `json_schema_extra`:

* `x-i18n`: `{"ru": {"title", "description", "key", "value"}, "en": {...}}`, the
  setting's label in other languages (`key`/`value`: a table's column names);
* `x-widget`: `"textarea"` for long text (templates), `"password"` for a secret typed
  in (shown as dots);
* `x-advanced`: `true` puts the setting under "Advanced settings", folded;
* `x-connection`: a provider's name (`"amocrm"`) on a setting that holds a connection's
  id: the form offers the workspace's connections of that provider.
"""

from __future__ import annotations

from typing import Any


def connection_settings(schema: dict[str, Any]) -> dict[str, str]:
    """The dotted path of each setting that names a connection, with its provider."""
    definitions: dict[str, Any] = schema.get("$defs", {})
    found: dict[str, str] = {}

    def visit(node: dict[str, Any], prefix: str) -> None:
        for name, setting in (node.get("properties") or {}).items():
            path = f"{prefix}{name}"
            if isinstance(setting.get("x-connection"), str):
                found[path] = setting["x-connection"]
            ref = setting.get("$ref", "")
            if ref.startswith("#/$defs/"):
                visit(definitions.get(ref.removeprefix("#/$defs/"), {}), f"{path}.")

    visit(schema, "")
    return found
