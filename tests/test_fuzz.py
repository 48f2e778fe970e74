"""Property-based fuzzing against a real API process: no server errors, and every
delivery the API accepts is stored. Bounded example counts keep it in the suite."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from junction.accounts.capture import MailCapture
from junction.app import create_app
from junction.intake.parsing import BodyError, parse_body
from junction.settings import Settings
from tests.factories import TEST_SECRET_KEY
from tests.support.backends import Databases
from tests.support.processes import Junction, fresh_junction

pytestmark = pytest.mark.processes

EXAMPLES = 40


@pytest.fixture(scope="module")
async def api(
    databases: Databases,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    mail_capture: MailCapture,
) -> AsyncIterator[tuple[Junction, str, dict[str, str]]]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    junction = await fresh_junction(
        databases,
        redis_url,
        workdir,
        {"JUNCTION_LOG_LEVEL": "WARNING", "JUNCTION_SMTP_URL": mail_capture.url},
    )
    applied = junction.command("tenants", "apply", "tenants/demo.yaml").stdout
    hook = re.search(r"/hooks/\S+", applied)
    assert hook is not None
    key = junction.command(
        "api-keys", "create", "--tenant", "demo", "--name", "fuzz", "--role", "admin"
    ).stdout.strip()
    junction.start_api()
    yield junction, hook.group(0), {"Authorization": f"Bearer {key}"}
    junction.stop()


# The schema comes from the application itself (no server needed to describe it); the
# cases are sent to the real API process.
schema = schemathesis.openapi.from_dict(create_app(Settings(secret_key=TEST_SECRET_KEY)).openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(
    case: Any, api: tuple[Junction, str, dict[str, str]]
) -> None:
    junction, _, auth = api
    case.call_and_validate(base_url=junction.base, headers=auth, checks=[not_a_server_error])


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "application/json; charset=utf-8",
        "multipart/form-data",
        "application/xml",
    ]
) | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
BODIES = (
    st.binary(max_size=600)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=5).map(
        lambda fields: "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    )
)
HEADER_NAMES = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz-"), min_size=1, max_size=12
).filter(
    lambda name: name.strip("-") and name not in ("content-length", "host", "transfer-encoding")
)
HEADERS = st.dictionaries(
    HEADER_NAMES,
    # HTTP clients refuse values with surrounding whitespace before sending anything.
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.strip),
    max_size=4,
)


@given(body=BODIES, content_type=CONTENT_TYPES, headers=HEADERS)
@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_accepted_delivery_is_stored(
    api: tuple[Junction, str, dict[str, str]],
    body: bytes,
    content_type: str,
    headers: dict[str, str],
) -> None:
    junction, hook, auth = api
    sent = {**headers, "content-type": content_type} if content_type else headers
    response = httpx.post(f"{junction.base}{hook}", content=body, headers=sent, timeout=30)
    assert response.status_code < 500, response.text
    if response.status_code not in (200, 202):
        assert response.json()["error"]["message"]
        return
    event = httpx.get(
        f"{junction.base}/api/events/{response.json()['event_id']}", headers=auth, timeout=30
    )
    assert event.status_code == 200
    if response.status_code == 202:
        try:
            expected = parse_body(body, content_type)
        except BodyError:  # pragma: no cover - the API accepted what the parser refuses
            pytest.fail("the API accepted a body its own parser refuses")
        assert event.json()["payload"] == expected
