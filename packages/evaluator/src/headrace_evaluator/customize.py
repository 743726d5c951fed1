"""What the Evaluator changes in TFMA's config message before TFMA runs: TFX's other
parameters (the deprecated ``feature_slicing_spec``'s slices, the Fairness Indicators metric,
the user module's metric classes), the check that every slicing column is in the data, and
change thresholds waived without a baseline.

Used by the executor once TFMA is imported; kept apart so the executor stays readable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core.executor import json_property
from headrace_evaluator.errors import EvaluatorError, UserModuleError
from headrace_evaluator.fairness import add_fairness_indicators, normalize_thresholds
from headrace_evaluator.report import describe_threshold
from headrace_evaluator.results import message_json
from headrace_evaluator.slicing import (
    add_feature_slices,
    data_columns,
    normalize_feature_slicing_spec,
    slicing_columns,
    unknown_slicing_columns,
)
from headrace_evaluator.udf import (
    CUSTOM_EXTRACTORS,
    UserModule,
    load_user_module,
    resolve_metric_modules,
)

__all__ = [
    "Customizations",
    "call_hook",
    "check_slicing_columns",
    "customize",
    "waive_change_thresholds",
]

log = logging.getLogger(__name__)


@dataclass
class Customizations:
    """What the parameters changed, for the log and ``metrics.json``."""

    user_module: UserModule | None = None
    fairness_indicator_thresholds: list[float] | None = None
    added_slices: list[list[str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        user = self.user_module
        return {
            "user_module": user.described if user else None,
            "user_hooks": sorted(n for n, h in (user.hooks if user else {}).items() if h),
            "user_metric_classes": [c.__name__ for c in (user.metric_classes if user else [])],
            "fairness_indicator_thresholds": self.fairness_indicator_thresholds,
            "feature_slicing_spec_slices": self.added_slices,
        }


def customize(config: Any, exec_properties: Mapping[str, Any]) -> Customizations:
    """Apply ``feature_slicing_spec``, ``fairness_indicator_thresholds`` and the user module's
    metric classes to the EvalConfig message ``config`` (in place)."""
    # Registers FairnessIndicators with TFMA, also for configs that name it themselves.
    import headrace_evaluator.fairness_metric  # noqa: F401

    done = Customizations()
    # TFX passes these as JSON strings, headrace as values; both are checked again here, as
    # an IR may come from elsewhere than the component.
    raw_slicing = json_property(
        exec_properties, "feature_slicing_spec", component="Evaluator", error=EvaluatorError
    )
    try:
        slicing = normalize_feature_slicing_spec(raw_slicing or None)
        thresholds = normalize_thresholds(exec_properties.get("fairness_indicator_thresholds"))
    except ValueError as e:
        raise EvaluatorError(str(e)) from None
    if slicing is not None:
        done.added_slices = add_feature_slices(config, slicing)
        log.warning(
            "Evaluator: feature_slicing_spec is deprecated (as in TFX): its slices joined "
            "eval_config.slicing_specs; put them there instead: %s",
            "; ".join(f"feature_keys: {c}" if c else "Overall" for c in done.added_slices)
            or "all were there already",
        )
    if thresholds is not None:
        add_fairness_indicators(config, thresholds)
        done.fairness_indicator_thresholds = thresholds
    done.user_module = load_user_module(exec_properties)
    resolve_metric_modules(config, done.user_module)
    return done


def check_slicing_columns(
    config: Any, patterns: Mapping[str, str], schema: Any, done: Customizations
) -> None:
    """Refuse a slicing spec whose column the examples do not have, before Beam starts
    (TFMA would silently produce no slice for it)."""
    columns = slicing_columns(config)
    if not columns:
        return
    if any(spec.preprocessing_function_names for spec in config.model_specs):
        log.info(
            "Evaluator: slicing columns not checked: the model's preprocessing functions may "
            "add features to slice by"
        )
        return
    if done.user_module is not None and done.user_module.hook(CUSTOM_EXTRACTORS):
        log.info("Evaluator: slicing columns not checked: custom_extractors may add features")
        return
    known, complete, source = data_columns(patterns, schema)
    unknown = unknown_slicing_columns(columns, known)
    if not unknown:
        return
    listed = "; ".join(f"{where}: {column!r}" for where, column in unknown)
    message = (
        f"Evaluator: eval_config slices by a column that is not in {source}: {listed} "
        f"(columns: {', '.join(sorted(known)) or 'none'})"
    )
    if done.added_slices and any(w.startswith("slicing_specs[") for w, _ in unknown):
        message += "; feature_slicing_spec's slices are among eval_config.slicing_specs"
    if not complete:
        log.warning("%s; only part of the examples was read, so it may be a rare column", message)
        return
    raise EvaluatorError(message)


def call_hook(user: UserModule, name: str, **kwargs: Any) -> Any:
    """Call the user's hook ``name``; what it raises is a UserModuleError naming it."""
    hook: Callable[..., Any] | None = user.hook(name)
    assert hook is not None
    try:
        return hook(**kwargs)
    except Exception as e:
        raise UserModuleError(
            f"Evaluator: {name} of {user.described} raised {type(e).__name__}: {e}"
        ) from e


def waive_change_thresholds(config: Any) -> list[dict[str, Any]]:
    """Remove every change threshold from ``config`` (in place); return what was removed.

    Without a baseline model there is nothing to compare with: TFX rubber-stamps the first
    model, ignoring its change thresholds. A threshold left with no value bound is removed
    altogether, so it is not counted as a check.
    """
    waived: list[dict[str, Any]] = []

    def take(where: str, metric: str, threshold: Any) -> bool:
        """Drop the change part; True when nothing of the threshold is left."""
        if not threshold.HasField("change_threshold"):
            return False
        change = {"change_threshold": message_json(threshold.change_threshold)}
        waived.append(
            {
                "where": where,
                "metric": metric,
                "threshold": change,
                "threshold_text": describe_threshold(change),
            }
        )
        threshold.ClearField("change_threshold")
        return not threshold.HasField("value_threshold")

    def keep(entries: Any, where: str, metric: str) -> None:
        kept = []
        for k, entry in enumerate(entries):
            if not take(f"{where}[{k}]", metric, entry.threshold):
                copy = type(entry)()
                copy.CopyFrom(entry)
                kept.append(copy)
        del entries[:]
        entries.extend(kept)

    for i, spec in enumerate(config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            base = f"metrics_specs[{i}].metrics[{j}]"
            if metric.HasField("threshold") and take(
                f"{base}.threshold", metric.class_name, metric.threshold
            ):
                metric.ClearField("threshold")
            keep(metric.per_slice_thresholds, f"{base}.per_slice_thresholds", metric.class_name)
            keep(metric.cross_slice_thresholds, f"{base}.cross_slice_thresholds", metric.class_name)
        for name in sorted(spec.thresholds):
            if take(f"metrics_specs[{i}].thresholds[{name!r}]", name, spec.thresholds[name]):
                del spec.thresholds[name]
        for kind in ("per_slice_thresholds", "cross_slice_thresholds"):
            by_name = getattr(spec, kind)
            for name in sorted(by_name):
                keep(by_name[name].thresholds, f"metrics_specs[{i}].{kind}[{name!r}]", name)
                if not by_name[name].thresholds:
                    del by_name[name]
    return waived
