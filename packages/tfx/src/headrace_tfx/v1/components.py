"""``tfx.v1.components``: TFX's standard components, as headrace's component packages."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

NAMES = {
    "CsvExampleGen": ("headrace_examplegen:CsvExampleGen", "headrace-examplegen"),
    "ImportExampleGen": ("headrace_examplegen:ImportExampleGen", "headrace-examplegen"),
    "StatisticsGen": ("headrace_statisticsgen:StatisticsGen", "headrace-statisticsgen"),
    "SchemaGen": ("headrace_schemagen:SchemaGen", "headrace-schemagen"),
    "ImportSchemaGen": ("headrace_schemagen:ImportSchemaGen", "headrace-schemagen"),
    "ExampleValidator": ("headrace_examplevalidator:ExampleValidator", "headrace-examplevalidator"),
    "Transform": ("headrace_transform:Transform", "headrace-transform"),
    "Trainer": ("headrace_trainer:Trainer", "headrace-trainer"),
    "FnArgs": ("headrace_trainer:FnArgs", "headrace-trainer"),
    "DataAccessor": ("headrace_trainer:DataAccessor", "headrace-trainer"),
    "Evaluator": ("headrace_evaluator:Evaluator", "headrace-evaluator"),
    "Pusher": ("headrace_pusher:Pusher", "headrace-pusher"),
    "BulkInferrer": ("headrace_bulkinferrer:BulkInferrer", "headrace-bulkinferrer"),
    "InfraValidator": ("headrace_infravalidator:InfraValidator", "headrace-infravalidator"),
    "Tuner": ("headrace_tuner:Tuner", "headrace-tuner"),
    "TunerFnResult": ("headrace_tuner:TunerFnResult", "headrace-tuner"),
    "ExampleDiff": ("headrace_examplediff:ExampleDiff", "headrace-examplediff"),
}

MISSING: dict[str, str] = {}

__all__ = [
    "BulkInferrer",
    "CsvExampleGen",
    "DataAccessor",
    "Evaluator",
    "ExampleDiff",
    "ExampleValidator",
    "FnArgs",
    "ImportExampleGen",
    "ImportSchemaGen",
    "InfraValidator",
    "Pusher",
    "SchemaGen",
    "StatisticsGen",
    "Trainer",
    "Transform",
    "Tuner",
    "TunerFnResult",
]

_getattr, __dir__ = exports("tfx.v1.components", NAMES, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
