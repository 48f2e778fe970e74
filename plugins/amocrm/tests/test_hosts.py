"""Only amoCRM's hosts (and, in tests and the demo, the sandbox) receive secrets."""

from __future__ import annotations

import pytest

from junction_amocrm.hosts import HostNotAllowed, api_base_url


@pytest.mark.parametrize(
    ("domain", "base"),
    [
        ("shop.amocrm.ru", "https://shop.amocrm.ru"),
        ("Shop.AmoCRM.com", "https://shop.amocrm.com"),
        ("my-shop.kommo.com", "https://my-shop.kommo.com"),
        ("127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_amocrm_hosts_and_configured_sandboxes_are_allowed(domain: str, base: str) -> None:
    assert api_base_url(domain, ["http://127.0.0.1:8765"]) == base


@pytest.mark.parametrize(
    "domain",
    [
        "evil.example.com",
        "amocrm.ru",
        "www.amocrm.ru",
        "shop.amocrm.ru.evil.com",
        "shop.amocrm.ru/evil",
        "a.b.amocrm.ru",
        "shop.amocrm.ru@evil.com",
        "127.0.0.1:8765",
    ],
)
def test_anything_else_is_refused(domain: str) -> None:
    with pytest.raises(HostNotAllowed, match="is not an amoCRM account domain"):
        api_base_url(domain)
