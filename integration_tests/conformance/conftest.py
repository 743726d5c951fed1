"""The conformance suite imports its drivers as ``conformance.drivers.<name>``."""

from __future__ import annotations

import sys
from pathlib import Path

_INTEGRATION = str(Path(__file__).resolve().parents[1])
if _INTEGRATION not in sys.path:
    sys.path.insert(0, _INTEGRATION)
