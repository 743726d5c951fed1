"""The ``ExampleDiff`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExamplesDiff,
    ExecutionParameter,
)
from headrace_examplediff.config import normalize_config, normalize_include_split_pairs

__all__ = ["ExampleDiff", "ExampleDiffSpec"]


class ExampleDiffSpec(ComponentSpec):
    # TFX's spec keys, which differ from the constructor's argument names (examples_test is
    # 'examples', config is 'example_diff_config'): IR, metadata and executors use these.
    PARAMETERS = {
        "example_diff_config": ExecutionParameter(
            type=dict,
            description=(
                "example_diff_pb2.ExampleDiffConfig as JSON: paired_example_skew "
                "{identifier_features, skew_sample_size, ignore_features, float_round_ndigits, "
                "allow_duplicate_identifiers, confusion_config}"
            ),
        ),
        "include_split_pairs": ExecutionParameter(
            type=list,
            optional=True,
            description=(
                "[test_split, base_split] pairs to compare; unset: every test split with "
                "every base split"
            ),
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples,
            description="examples_test: tf.Example TFRecords in Split-<name>/",
        ),
        "baseline_examples": ChannelParameter(
            type=Examples,
            description="examples_base: the tf.Examples to compare them with",
        ),
    }
    OUTPUTS = {
        "example_diff_result": ChannelParameter(
            type=ExamplesDiff,
            description=(
                "SplitPair-<test>_<base>/: skew_stats, sample_pairs, match_stats (and "
                "confusion) TFRecords of TFDV's protos; summary.json"
            ),
        ),
    }


class ExampleDiff(BaseComponent):
    """Compares two Examples artifacts example by example, as TFX's ExampleDiff.

    Examples of ``examples_test`` and ``examples_base`` are paired by the values of
    ``identifier_features``; for every pair TFDV's feature skew detector compares each other
    feature. Per compared split pair the result holds TFDV's per-feature skew counts, a
    sample of skewed pairs and match statistics, in TFX's layout::

        example_diff = ExampleDiff(
            examples_test=example_gen.outputs["examples"],
            examples_base=skewed_example_gen.outputs["examples"],
            config={
                "paired_example_skew": {
                    "identifier_features": ["culmen_length_mm"],
                    "skew_sample_size": 2,
                }
            },
            include_split_pairs=[("train", "train"), ("train", "eval")],
        )
        example_diff.outputs["example_diff_result"]

    ``config`` also takes TFX's ``example_diff_pb2.ExampleDiffConfig`` or its JSON.
    """

    SPEC_CLASS = ExampleDiffSpec
    EXECUTOR_SPEC = "headrace_examplediff.executor:Executor"

    def __init__(
        self,
        examples_test: Channel,
        examples_base: Channel,
        config: Any,
        include_split_pairs: Any = None,
    ) -> None:
        super().__init__(
            examples=examples_test,
            baseline_examples=examples_base,
            example_diff_config=normalize_config(config),
            include_split_pairs=normalize_include_split_pairs(include_split_pairs),
        )
