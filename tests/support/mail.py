"""The local SMTP capture server the tests' Junction sends its email to."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from junction.accounts.capture import CapturedMail, MailCapture


@pytest.fixture(scope="session")
def mail_capture() -> Iterator[MailCapture]:
    capture = MailCapture()
    capture.start()
    yield capture
    capture.stop()


def mail_to(capture: MailCapture, address: str, subject_part: str) -> CapturedMail:
    """The newest message to `address` whose subject has `subject_part` (waits briefly:
    the SMTP server hands messages over on its own thread)."""
    deadline = time.monotonic() + 5
    while True:
        found = [m for m in capture.to(address) if subject_part.lower() in m.subject.lower()]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no email to {address} about {subject_part!r}")
        time.sleep(0.02)


def link_token(mail: CapturedMail) -> str:
    for link in mail.links:
        match = re.search(r"[?&]token=([\w-]+)", link)
        if match:
            return match.group(1)
    raise AssertionError(f"no link with a token in {mail.body!r}")
