"""`make chart-check`: the chart rendered by Helm's own engine, each manifest validated.

For the default values, `examples/production.yaml` and `examples/inline-secrets.yaml`:
`helm lint` (strict), a render as an install and as an upgrade, and every rendered
manifest checked against the
Kubernetes API's schemas (strict: no unknown fields) of the oldest and the newest
Kubernetes the chart supports. The Prometheus Operator's ServiceMonitor is not part of
the Kubernetes API; it is checked against the fields of its CRD the chart uses.
Each values file under `examples/refused/` must be refused at render, with a message.

Helm is the helm-python-sdk package (Helm's Go SDK, bundled); the schemas come with
kubernetes-validate: nothing is fetched, so the check runs offline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

CHART = Path(__file__).parent / "junction"
EXAMPLES = CHART / "examples"
KUBERNETES = ("1.27.0", "1.37.0")
NAME = "junction"
NAMESPACE = "junction"

SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "properties": {"matchLabels": {"type": "object"}},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                        },
                    },
                },
            },
        },
    },
}


def _documents(rendered: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                found.append((path, document))
    return found


def _problems(documents: list[tuple[str, dict[str, Any]]]) -> list[str]:
    problems = []
    for path, document in documents:
        where = f"{path}: {document.get('kind')} {document.get('metadata', {}).get('name')}"
        if document.get("kind") == "ServiceMonitor":
            for error in jsonschema.Draft7Validator(SERVICE_MONITOR).iter_errors(document):
                problems.append(f"{where}: {error.message}")
            continue
        for version in KUBERNETES:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{where} (Kubernetes {version}): {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{where}: no schema for it in Kubernetes {version}")
    return problems


def check(label: str, values: dict[str, Any]) -> list[str]:
    problems = []
    report = helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE)
    problems += [
        f"lint: {m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2
    ]
    problems += [f"lint: {error}" for error in report.get("errors", [])]
    with helm.Chart.load(str(CHART)) as chart:
        for mode in ("install", "upgrade"):
            rendered = chart.render(
                values,
                name=NAME,
                namespace=NAMESPACE,
                is_install=mode == "install",
                is_upgrade=mode == "upgrade",
            )
            documents = _documents(rendered)
            problems += _problems(documents)
    kinds = sorted({document["kind"] for _, document in documents})
    if not problems:
        print(f"{label}: {len(documents)} manifests valid ({', '.join(kinds)})")
    return [f"{label}: {problem}" for problem in problems]


def refused(path: Path) -> str | None:
    """None when Helm refuses the values; else what is wrong with the check."""
    values = yaml.safe_load(path.read_text()) or {}
    try:
        with helm.Chart.load(str(CHART)) as chart:
            chart.render(values, name=NAME, namespace=NAMESPACE, is_install=True)
    except helm.HelmError as exc:
        message = " ".join(str(exc).split())
        print(f"refused {path.name}: {message}")
        return None
    return f"{path.name} was not refused"


def main() -> int:
    problems = check("default values", {})
    for label, name in (("production example", "production"), ("inline secrets", "inline-secrets")):
        problems += check(label, yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text()))
    for path in sorted((EXAMPLES / "refused").glob("*.yaml")):
        problem = refused(path)
        if problem:
            problems.append(problem)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
