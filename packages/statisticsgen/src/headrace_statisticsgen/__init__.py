"""headrace StatisticsGen: TFDV statistics of every split of an Examples artifact, as in TFX.

Importing this package is light: the executor, which imports TFDV, Beam and TensorFlow, is
imported only when a node runs.
"""

from __future__ import annotations

from headrace_statisticsgen.__about__ import __version__
from headrace_statisticsgen.component import StatisticsGen, StatisticsGenSpec

__all__ = ["StatisticsGen", "StatisticsGenSpec", "__version__"]
