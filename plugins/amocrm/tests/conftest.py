"""The amoCRM plugin's tests: the sandbox fixtures come from tests.support.amocrm_sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

# The helpers beside these tests (sandbox_accounts, amo_caller) are imported by name.
sys.path.insert(0, str(Path(__file__).parent))
