"""TFMA's Fairness Indicators metric, for TFMA 0.47, which no longer ships it.

TFMA 0.47 dropped its ``addons.fairness`` module (and the post-export metrics TFX's
``fairness_indicator_thresholds`` used to add); the metric went to the separate
``fairness-indicators`` distribution, which pulls in TensorFlow Hub and the What-If widget.
This is the same metric under the same class name and the same metric names
(``fairness_indicators_metrics/false_positive_rate@0.5``), so eval configs and thresholds
written for it work unchanged; importing this module registers it with TFMA, so
``metrics { class_name: "FairnessIndicators" }`` finds it without a ``module``.

Imports TFMA: only executors (and TFMA itself, through a config's ``module``) import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tensorflow_model_analysis.metrics import binary_confusion_matrices, metric_types

from headrace_evaluator.fairness import (
    DEFAULT_THRESHOLDS,
    FAIRNESS_METRICS_NAME,
    RATES,
    rate_metric_name,
)

__all__ = ["FairnessIndicators"]


def _ratio(numerator: float, denominator: float) -> float:
    # An empty denominator (no negatives in a slice, say) has no rate: NaN, as TFMA's own.
    return numerator / denominator if denominator else float("nan")


def _rates(tp: float, fp: float, tn: float, fn: float) -> dict[str, float]:
    positives, negatives = tp + fn, tn + fp
    total = positives + negatives
    return {
        "false_positive_rate": _ratio(fp, negatives),
        "false_negative_rate": _ratio(fn, positives),
        "true_positive_rate": _ratio(tp, positives),
        "true_negative_rate": _ratio(tn, negatives),
        "positive_rate": _ratio(tp + fp, total),
        "negative_rate": _ratio(tn + fn, total),
        "false_discovery_rate": _ratio(fp, fp + tp),
        "false_omission_rate": _ratio(fn, fn + tn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, positives),
    }


def _computations(
    thresholds: Sequence[float],
    name: str = FAIRNESS_METRICS_NAME,
    eval_config: Any = None,
    model_name: str = "",
    output_name: str = "",
    aggregation_type: Any = None,
    sub_key: Any = None,
    class_weights: Any = None,
    example_weighted: bool = False,
) -> Any:
    thresholds = [float(t) for t in thresholds]
    # TFMA keys the thresholds of a metrics spec's ``thresholds`` map (the only place a
    # threshold can name one rate, say false_positive_rate@0.5) with example_weighted unset,
    # and matches keys exactly: unweighted rates carry it unset, so those thresholds apply.
    weighted = True if example_weighted else None
    keys = {
        (t, rate): metric_types.MetricKey(
            name=rate_metric_name(rate, t, thresholds, name),
            model_name=model_name,
            output_name=output_name,
            sub_key=sub_key,
            example_weighted=weighted,
        )
        for t in thresholds
        for rate in RATES
    }
    computations = binary_confusion_matrices.binary_confusion_matrices(
        thresholds=thresholds,
        eval_config=eval_config,
        model_name=model_name,
        output_name=output_name,
        sub_key=sub_key,
        aggregation_type=aggregation_type,
        class_weights=class_weights,
        example_weighted=example_weighted,
    )
    matrices_key = computations[-1].keys[-1]

    def result(metrics: dict[Any, Any]) -> dict[Any, Any]:
        matrices = metrics[matrices_key]
        out = {}
        for i, t in enumerate(thresholds):
            rates = _rates(matrices.tp[i], matrices.fp[i], matrices.tn[i], matrices.fn[i])
            for rate, value in rates.items():
                out[keys[(t, rate)]] = value
        return out

    computations.append(
        metric_types.DerivedMetricComputation(keys=list(keys.values()), result=result)
    )
    return computations


class FairnessIndicators(metric_types.Metric):  # type: ignore[misc]
    """Rates of a binary classifier's confusion matrix at each threshold: false positive and
    false negative rates, precision, recall and the rest, per slice.

    Needs a score in [0, 1] per example: a binary classifier's probability, or a multi-class
    one binarized by the metrics spec (``binarize { class_ids { values: [0, 1, 2] } }``).
    """

    def __init__(
        self,
        thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
        name: str = FAIRNESS_METRICS_NAME,
    ) -> None:
        from tensorflow_model_analysis.metrics import metric_util

        super().__init__(
            metric_util.merge_per_key_computations(_computations),
            thresholds=list(thresholds),
            name=name,
        )


metric_types.register_metric(FairnessIndicators)
