"""``python -m headrace_tfx run PIPELINE_FILE [ARGS...]``."""

from __future__ import annotations

import sys

from headrace_tfx.cli import main

if __name__ == "__main__":
    sys.exit(main())
