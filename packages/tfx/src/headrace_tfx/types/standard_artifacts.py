"""``tfx.types.standard_artifacts``: the same types as ``tfx.v1.types.standard_artifacts``."""

from __future__ import annotations

from headrace_tfx.v1.types.standard_artifacts import *  # noqa: F403 - the very same names
from headrace_tfx.v1.types.standard_artifacts import __all__  # noqa: F401 - re-exported
