"""headrace-tfx: TFX's public names over headrace, so a TFX pipeline moves over unchanged.

``from headrace_tfx import v1 as tfx`` mirrors ``tfx.v1``; ``headrace tfx run PIPELINE_FILE``
(or ``python -m headrace_tfx``) runs a TFX pipeline file as it is, ``import tfx`` included.
"""

from __future__ import annotations

from headrace_tfx.__about__ import __version__

__all__ = ["__version__"]
