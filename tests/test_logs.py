"""Log output: text for people, one JSON object per line for machines."""

from __future__ import annotations

import json
import logging

import pytest

from junction.logs import configure_logging
from junction.settings import Settings


def test_json_lines_carry_the_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(Settings(log_format="json", log_level="info", secret_key="k" * 32))
        logging.getLogger("junction.access").info(
            "POST %s 202", "/hooks/{token}", extra={"endpoint_id": "e1"}
        )
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    entry = json.loads(line)
    assert entry["message"] == "POST /hooks/{token} 202"
    assert entry["level"] == "info"
    assert entry["logger"] == "junction.access"
    assert entry["endpoint_id"] == "e1"
