"""``headrace gc``: removing what old runs of a pipeline root left behind.

:func:`plan_gc` decides, from the store and the root, which runs are old and which of their
artifacts nothing needs any more (``_plan``'s docstring has the rules); :func:`apply_gc` marks
those DELETED in ML Metadata and removes their files, with abandoned staging, scratch space
and unpublished outputs (``_apply``). A plan changes nothing, so ``--dry-run`` is the plan
printed.
"""

from headrace_core.gc._apply import GcResult, apply_gc
from headrace_core.gc._plan import ACTIVE_WINDOW_S, GcPlan, Removal, plan_gc

__all__ = ["ACTIVE_WINDOW_S", "GcPlan", "GcResult", "Removal", "apply_gc", "plan_gc"]
