"""Plugins and shop formats as the API names them: a title and a description, with the
other languages the plugin gives them in, so the web app can show the reader's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from junction.plugins.interfaces import Source, Translations
from junction.plugins.registry import PluginError, PluginRegistry


class Described(BaseModel):
    title: str
    description: str = ""
    # The title and description in other languages, by language code.
    i18n: dict[str, dict[str, str]] = Field(default_factory=dict)


def _plain(translations: Translations) -> dict[str, dict[str, str]]:
    return {language: dict(words) for language, words in translations.items()}


def plugin_words(registry: PluginRegistry, name: str) -> dict[str, Any]:
    """A plugin's `Described` fields; one no longer loaded is named by its name alone, so
    a tenant's installation of it still lists."""
    try:
        info = registry.plugin(name).info
    except PluginError:
        return {"title": name}
    return {"title": info.title, "description": info.description, "i18n": _plain(info.i18n)}


def source_words(source: Source) -> dict[str, Any]:
    """A shop format's `Described` fields."""
    return {"title": source.title or source.name, "i18n": _plain(source.i18n)}
