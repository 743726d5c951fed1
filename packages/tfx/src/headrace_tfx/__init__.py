"""headrace-tfx: TFX's public names over headrace, so a TFX pipeline moves over unchanged.

``from headrace_tfx import v1 as tfx`` mirrors ``tfx.v1``; ``headrace tfx run PIPELINE_FILE``
(or ``python -m headrace_tfx``) runs a TFX pipeline file as it is, ``import tfx`` included.

Where the real TFX is not installed, importing this package also makes ``import tfx`` resolve
to it, here and in the processes this one starts: a pipeline file edited to import
``headrace_tfx`` keeps its module files (``from tfx.components.trainer.fn_args_utils import
FnArgs``) as they are. It also selects Keras 2 for ``tf.keras`` when TensorFlow is not
imported yet, as TFX's code needs.
"""

from __future__ import annotations

import os
import sys

from headrace_tfx import _alias
from headrace_tfx.__about__ import __version__

_alias.activate()
# TFX 1.16's Keras code (tf.Transform's layers, TFMA's metrics, the examples' models) is Keras
# 2: select it for tf.keras, which TensorFlow binds once, at first use. `headrace run` imports
# the headrace packages a pipeline file names before the file runs, so this comes first even
# where the file imports TFMA above `from headrace_tfx import v1 as tfx`.
if "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# TFX imports absl.app, so its files may call absl.app.run() after a bare `import absl`.
import absl.app  # noqa: E402, F401

__all__ = ["__version__"]
