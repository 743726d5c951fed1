"""Helpers for the ExampleDiff's tests: TFX's config message, the penguin pair, a runner.

``example_diff_messages()`` builds ``ExampleDiffConfig`` and ``PairedExampleSkew`` with
TFX's names, numbers and types (example_diff.proto at v1.16.0) in a private descriptor pool,
so the message form is tested without the tfx package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace_core import Examples, ExamplesDiff
from headrace_core.executor import ExecutorContext

__all__ = [
    "MULTI_PROCESS",
    "TFX_CONFIG",
    "PenguinPair",
    "example_diff_messages",
    "examples_artifact",
    "run_executor",
]

#: TFX's penguin example: tfx/examples/penguin/penguin_pipeline_local.py.
TFX_CONFIG = {
    "paired_example_skew": {"identifier_features": ["culmen_length_mm"], "skew_sample_size": 2}
}
MULTI_PROCESS = ("--direct_running_mode=multi_processing", "--direct_num_workers=2")


def example_diff_messages() -> tuple[Any, Any]:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name="headrace_testing/example_diff.proto",
        package="tfx.components.example_diff",
        syntax="proto3",
    )
    skew = file.message_type.add(name="PairedExampleSkew")
    for name, number, kind, label in (
        ("identifier_features", 1, field.TYPE_STRING, field.LABEL_REPEATED),
        ("skew_sample_size", 2, field.TYPE_UINT32, field.LABEL_OPTIONAL),
        ("ignore_features", 3, field.TYPE_STRING, field.LABEL_REPEATED),
        ("float_round_ndigits", 4, field.TYPE_UINT32, field.LABEL_OPTIONAL),
        ("allow_duplicate_identifiers", 5, field.TYPE_BOOL, field.LABEL_OPTIONAL),
    ):
        skew.field.add(name=name, number=number, type=kind, label=label)
    confusion = skew.nested_type.add(name="ConfusionConfig")
    confusion.field.add(
        name="feature_name", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL
    )
    skew.field.add(
        name="confusion_config",
        number=6,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=".tfx.components.example_diff.PairedExampleSkew.ConfusionConfig",
    )
    config = file.message_type.add(name="ExampleDiffConfig")
    config.field.add(
        name="paired_example_skew",
        number=1,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_OPTIONAL,
        type_name=".tfx.components.example_diff.PairedExampleSkew",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    find = pool.FindMessageTypeByName
    return (
        message_factory.GetMessageClass(find("tfx.components.example_diff.ExampleDiffConfig")),
        message_factory.GetMessageClass(find("tfx.components.example_diff.PairedExampleSkew")),
    )


@dataclass(frozen=True)
class PenguinPair:
    """TFX's ExampleDiff pair: the penguin examples (test) and their skewed copy (base), each
    split 2:1 by row into train and eval; the skewed file has one row's culmen_length_mm -1."""

    test: Path
    base: Path
    counts: dict[str, dict[str, int]]


def examples_artifact(uri: Path, splits: str = '["train", "eval"]', **custom: Any) -> Examples:
    artifact = Examples(str(uri), properties={"split_names": splits})
    for key, value in custom.items():
        artifact.set_custom_property(key, value)
    return artifact


def run_executor(
    pair: PenguinPair,
    out: Path,
    config: Any = None,
    include_split_pairs: Any = None,
    beam_args: tuple[str, ...] = (),
    test: Examples | None = None,
    base: Examples | None = None,
) -> dict[str, Any]:
    """Run the executor as a node would; return the summary.json it wrote."""
    from headrace_examplediff.executor import Executor

    out.mkdir(parents=True, exist_ok=True)
    exec_properties: dict[str, Any] = {"example_diff_config": config or TFX_CONFIG}
    if include_split_pairs is not None:
        exec_properties["include_split_pairs"] = include_split_pairs
    Executor(ExecutorContext(beam_pipeline_args=beam_args)).Do(
        {
            "examples": [test or examples_artifact(pair.test)],
            "baseline_examples": [base or examples_artifact(pair.base)],
        },
        {"example_diff_result": [ExamplesDiff(str(out))]},
        exec_properties,
    )
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary
