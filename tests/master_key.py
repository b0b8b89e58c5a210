"""One master key for the tests' key rings (every ring of a test run wraps with it)."""

from __future__ import annotations

import os

from infrastructure.master_keys import MasterKeys

MASTER = MasterKeys({"test": os.urandom(32)})
