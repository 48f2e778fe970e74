"""Tenants' templates (lead names, notes), rendered in Jinja2's sandbox with limits.

A template is a tenant's code running in our worker: it gets no attribute access to
internals (the sandbox), and its output is cut at a size limit.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 20_000
MAX_SOURCE = 20_000

_environment = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


class TemplateProblem(ValueError):
    """The template does not compile or does not render; the message says where."""


def check(source: str) -> None:
    """Refuse a template that does not compile (at save time)."""
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"the template is longer than {MAX_SOURCE} characters")
    try:
        _environment.parse(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateProblem(f"the template does not compile{where}: {exc}") from None


def render(source: str, context: dict[str, Any], limit: int = MAX_OUTPUT) -> str:
    try:
        text = _environment.from_string(source).render(context)
    except TemplateError as exc:
        raise TemplateProblem(f"the template failed: {exc}") from None
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
