"""``python -m headrace_core.cli``: the ``headrace`` command."""

from __future__ import annotations

import sys

from headrace_core.cli import main

sys.exit(main())
