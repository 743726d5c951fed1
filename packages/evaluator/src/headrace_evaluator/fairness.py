"""``fairness_indicator_thresholds``: TFX's parameter, as the Fairness Indicators metric in every
metrics spec of the eval config.

Light (no TFMA): the component checks the thresholds where the pipeline is written, the
executor adds the metric to TFMA's config message. The metric itself is
:mod:`headrace_evaluator.fairness_metric`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from headrace_core import InvalidComponentArgumentError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "FAIRNESS_CLASS_NAME",
    "FAIRNESS_METRICS_NAME",
    "FAIRNESS_MODULE",
    "RATES",
    "add_fairness_indicators",
    "check_no_fairness_metric",
    "normalize_thresholds",
    "rate_metric_name",
]

FAIRNESS_CLASS_NAME = "FairnessIndicators"
FAIRNESS_MODULE = "headrace_evaluator.fairness_metric"
#: The prefix of every metric name it computes, as TFMA's and fairness-indicators'.
FAIRNESS_METRICS_NAME = "fairness_indicators_metrics"
DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
RATES = (
    "false_positive_rate",
    "false_negative_rate",
    "true_positive_rate",
    "true_negative_rate",
    "positive_rate",
    "negative_rate",
    "false_discovery_rate",
    "false_omission_rate",
    "precision",
    "recall",
)
_WHERE = "Evaluator: fairness_indicator_thresholds"


def rate_metric_name(
    rate: str, threshold: float, thresholds: Sequence[float], name: str = FAIRNESS_METRICS_NAME
) -> str:
    """``fairness_indicators_metrics/false_positive_rate@0.5``.

    Every threshold of one metric is printed with as many decimals as the longest needs
    (``[0.25, 0.5]`` gives ``@0.25`` and ``@0.50``), the fairness-indicators package's rule,
    so names in existing thresholds and dashboards match.
    """
    digits = max(1, *(len(str(float(t))) - 2 for t in thresholds))
    return f"{name}/{rate}@{threshold:.{digits}f}"


def normalize_thresholds(value: Any) -> list[float] | None:
    """The thresholds as a list of floats in [0, 1]; TFX's JSON string of the list works too."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as e:
            raise InvalidComponentArgumentError(f"{_WHERE} is not valid JSON: {e}") from None
        if value is None:
            return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or not value:
        raise InvalidComponentArgumentError(
            f"{_WHERE} must be a non-empty list of numbers such as [0.3, 0.5], got {value!r:.80}"
        )
    result = []
    for i, t in enumerate(value):
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            raise InvalidComponentArgumentError(
                f"{_WHERE}[{i}] is not a number: {t!r:.40} ({type(t).__name__})"
            )
        if not (math.isfinite(t) and 0 <= t <= 1):
            raise InvalidComponentArgumentError(
                f"{_WHERE}[{i}] is {t}: thresholds cut predicted probabilities, so each is "
                "in [0, 1]"
            )
        result.append(float(t))
    if len(set(result)) != len(result):
        raise InvalidComponentArgumentError(f"{_WHERE} names a threshold twice: {result}")
    return result


def check_no_fairness_metric(eval_config: Mapping[str, Any]) -> None:
    """Refuse thresholds given twice: by the parameter and by a FairnessIndicators metric."""
    for i, spec in enumerate(eval_config.get("metrics_specs") or []):
        for j, metric in enumerate(spec.get("metrics") or []):
            if metric.get("class_name") == FAIRNESS_CLASS_NAME:
                raise InvalidComponentArgumentError(
                    f"{_WHERE} and eval_config metrics_specs[{i}].metrics[{j}] both configure "
                    "FairnessIndicators; give its thresholds in one of the two"
                )


def add_fairness_indicators(config: Any, thresholds: Sequence[float]) -> None:
    """Add the Fairness Indicators metric with ``thresholds`` to every metrics spec of the
    EvalConfig message ``config`` (in place), as TFX's parameter did for every model."""
    # The module is named so TFMA imports it wherever it builds the metric (Beam workers too).
    metric_config = json.dumps({"thresholds": list(thresholds)})
    for spec in config.metrics_specs:
        metric = spec.metrics.add()
        metric.class_name = FAIRNESS_CLASS_NAME
        metric.module = FAIRNESS_MODULE
        metric.config = metric_config
