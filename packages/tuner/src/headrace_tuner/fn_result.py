"""What ``tuner_fn(fn_args)`` returns: TFX's ``TunerFnResult``, defined without KerasTuner so
that user modules and type hints import it cheaply."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["TunerFnResult"]


class TunerFnResult(NamedTuple):
    """``tuner``: a KerasTuner ``BaseTuner`` (``RandomSearch``, ``Hyperband``, ...);
    ``fit_kwargs``: the keyword arguments of its ``search`` (``x``, ``validation_data``,
    ``steps_per_epoch``, ``validation_steps``, ...), as in TFX."""

    tuner: Any
    fit_kwargs: dict[str, Any]
