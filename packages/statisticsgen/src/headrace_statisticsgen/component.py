"""``StatisticsGen``: its spec and a reference to its executor. Never imports TFDV or Beam."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExampleStatistics,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Schema,
)

__all__ = [
    "STATS_OPTIONS_KEYS",
    "StatisticsGen",
    "StatisticsGenSpec",
    "check_stats_options",
]

#: ``tfdv.StatsOptions`` arguments that can travel as JSON in the pipeline IR (TFDV 1.16).
#: Generators, slice functions and per-feature weight overrides are Python objects and cannot.
STATS_OPTIONS_KEYS: frozenset[str] = frozenset(
    {
        "schema",
        "label_feature",
        "weight_feature",
        "sample_rate",
        "num_top_values",
        "frequency_threshold",
        "weighted_frequency_threshold",
        "num_rank_histogram_buckets",
        "num_values_histogram_buckets",
        "num_histogram_buckets",
        "num_quantiles_histogram_buckets",
        "epsilon",
        "infer_type_from_schema",
        "desired_batch_size",
        "enable_semantic_domain_stats",
        "semantic_domain_stats_sample_rate",
        "vocab_paths",
        "add_default_generators",
        "feature_allowlist",
        "use_sketch_based_topk_uniques",
        "experimental_use_sketch_based_topk_uniques",
        "experimental_slice_sqls",
        "experimental_num_feature_partitions",
        "slicing_config",
        "experimental_filter_read_paths",
    }
)

#: Marks ``StatsOptions.to_json()``'s form (TFX's ``stats_options_json``), decoded as such.
_TFDV_JSON_MARKER = "TYPE_NAME"


def check_stats_options(options: Mapping[str, Any], where: str = "StatisticsGen") -> None:
    """Refuse keys ``tfdv.StatsOptions`` does not take, naming the closest valid one.

    Values are checked by TFDV itself when the node runs.
    """
    if options.get(_TFDV_JSON_MARKER) is not None:
        if options[_TFDV_JSON_MARKER] != "StatsOptions":
            raise InvalidComponentArgumentError(
                f"{where}: stats_options has TYPE_NAME {options[_TFDV_JSON_MARKER]!r}; "
                "the JSON form of tfdv.StatsOptions has TYPE_NAME 'StatsOptions'"
            )
        return
    unknown = sorted(set(options) - STATS_OPTIONS_KEYS)
    if unknown:
        import difflib

        hints = [
            f"{key!r} (did you mean {match[0]!r}?)"
            if (match := difflib.get_close_matches(key, STATS_OPTIONS_KEYS, n=1))
            else repr(key)
            for key in unknown
        ]
        raise InvalidComponentArgumentError(
            f"{where}: stats_options has unknown key(s) {', '.join(hints)}; accepted: "
            f"{', '.join(sorted(STATS_OPTIONS_KEYS))}"
        )


class StatisticsGenSpec(ComponentSpec):
    PARAMETERS = {
        "stats_options": ExecutionParameter(
            type=dict,
            optional=True,
            description="tfdv.StatsOptions arguments as JSON (or StatsOptions.to_json()'s form)",
        ),
        "exclude_splits": ExecutionParameter(
            type=list, optional=True, description="names of splits to compute no statistics for"
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples, description="tf.Example TFRecords per split"),
        "schema": ChannelParameter(
            type=Schema, optional=True, description="guides statistics (e.g. categorical INTs)"
        ),
    }
    OUTPUTS = {
        "statistics": ChannelParameter(
            type=ExampleStatistics,
            description="Split-<name>/FeatureStats.pb and Split-<name>/statistics.html",
        ),
    }


class StatisticsGen(BaseComponent):
    """Computes TFDV statistics of each split of ``examples`` on Apache Beam, as TFX does.

    ``stats_options`` takes the arguments of ``tfdv.StatsOptions`` as a dict (for example
    ``{"num_top_values": 50, "sample_rate": 0.5}``) or a ``tfdv.StatsOptions`` object, which is
    stored in its JSON form. A ``schema`` input fills ``StatsOptions.schema``; giving both is
    an error, as in TFX.
    """

    SPEC_CLASS = StatisticsGenSpec
    EXECUTOR_SPEC = "headrace_statisticsgen.executor:Executor"

    def __init__(
        self,
        examples: Channel | None = None,
        schema: Channel | None = None,
        stats_options: Mapping[str, Any] | Any | None = None,
        exclude_splits: Sequence[str] | None = None,
    ) -> None:
        if stats_options is not None and not isinstance(stats_options, Mapping):
            to_json = getattr(stats_options, "to_json", None)
            if not callable(to_json):
                raise InvalidComponentArgumentError(
                    "StatisticsGen: stats_options takes a dict of tfdv.StatsOptions arguments "
                    f"or a tfdv.StatsOptions, got {type(stats_options).__name__}"
                )
            try:
                stats_options = json.loads(to_json())
            except ValueError as e:
                raise InvalidComponentArgumentError(
                    f"StatisticsGen: stats_options cannot be stored in the pipeline: {e}"
                ) from None
        if stats_options is not None:
            check_stats_options(stats_options)
            if stats_options.get("schema") is not None and schema is not None:
                raise InvalidComponentArgumentError(
                    "StatisticsGen: a schema was given both as the schema input and in "
                    "stats_options; give at most one"
                )
        if exclude_splits is not None and (
            isinstance(exclude_splits, str) or not all(isinstance(s, str) for s in exclude_splits)
        ):
            raise InvalidComponentArgumentError(
                f"StatisticsGen: exclude_splits must be a list of split names, got "
                f"{exclude_splits!r:.80}"
            )
        super().__init__(
            examples=examples,
            schema=schema,
            stats_options=stats_options,
            exclude_splits=None if exclude_splits is None else list(exclude_splits),
        )
