"""Which hosts are amoCRM's: the client secret and tokens go nowhere else.

`referer` in the OAuth callback comes from the browser and can be forged; it is checked
here before anything secret is sent to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

AMOCRM_SUFFIXES = (".amocrm.ru", ".amocrm.com", ".kommo.com")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class HostNotAllowed(ValueError):
    pass


def api_base_url(domain: str, extra_hosts: Sequence[str] = ()) -> str:
    """`https://{domain}` for an amoCRM account domain, or an allowed extra base URL."""
    domain = domain.strip().lower()
    for base in extra_hosts:
        if domain == base.split("://", 1)[-1].lower():
            return base
    for suffix in AMOCRM_SUFFIXES:
        if domain.endswith(suffix):
            subdomain = domain[: -len(suffix)]
            if _LABEL.match(subdomain) and subdomain != "www":
                return f"https://{domain}"
    raise HostNotAllowed(f"{domain!r} is not an amoCRM account domain")
