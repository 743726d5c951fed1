"""headrace-tfx: TFX's public names over headrace, so a TFX pipeline moves over unchanged.

``from headrace_tfx import v1 as tfx`` mirrors ``tfx.v1``; ``headrace tfx run PIPELINE_FILE``
(or ``python -m headrace_tfx``) runs a TFX pipeline file as it is, ``import tfx`` included.

Where the real TFX is not installed, importing this package also makes ``import tfx`` resolve
to it, here and in the processes this one starts: a pipeline file edited to import
``headrace_tfx`` keeps its module files (``from tfx.components.trainer.fn_args_utils import
FnArgs``) as they are.
"""

from __future__ import annotations

from headrace_tfx import _alias
from headrace_tfx.__about__ import __version__

_alias.activate()

__all__ = ["__version__"]
