"""The Chicago taxi pipeline through the Trainer, as TFX's taxi example.

    tools/example taxi

TAXI_ROOT moves the pipeline root (default: build/taxi); TAXI_TRAIN_STEPS sets the training
length.
"""

from __future__ import annotations

import os

from headrace_examplegen import CsvExampleGen
from headrace_schemagen import SchemaGen
from headrace_statisticsgen import StatisticsGen
from headrace_trainer import Trainer
from headrace_transform import Transform

from headrace_core import Pipeline

_HERE = os.path.dirname(os.path.abspath(__file__))


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("TAXI_ROOT", os.path.join("build", "taxi")))
    module_file = os.path.join(_HERE, "taxi_utils.py")
    example_gen = CsvExampleGen(input_base=os.path.join(_HERE, "data"))
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    # As TFX's taxi example: every feature may be missing, so none gets a fixed shape.
    schema_gen = SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False
    )
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=module_file,
    )
    trainer = Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args={"num_steps": int(os.environ.get("TAXI_TRAIN_STEPS", "200"))},
        eval_args={"num_steps": 20},
    )
    return Pipeline(
        pipeline_name="taxi",
        pipeline_root=root,
        components=[example_gen, statistics_gen, schema_gen, transform, trainer],
    )
