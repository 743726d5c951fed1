"""``tfx`` in the processes a ``headrace tfx run`` starts (node processes, Beam workers): this
folder is on their PYTHONPATH, and importing ``tfx`` here installs the same alias as in the
run's own process, so ``import tfx.v1`` and the rest resolve to headrace-tfx there too."""

from headrace_tfx import __version__
from headrace_tfx._alias import install

install()

__all__ = ["__version__"]
