"""The penguin pipeline, as TFX's penguin example: CSV in, a trained model with its transform
graph out. (Evaluator and Pusher join it as their packages land.)

    headrace run examples/penguin/pipeline.py

PENGUIN_ROOT moves the pipeline root (default: build/penguin); PENGUIN_TRAIN_STEPS changes the
training length.
"""

from __future__ import annotations

import os

from headrace_examplegen import CsvExampleGen
from headrace_examplevalidator import ExampleValidator
from headrace_schemagen import SchemaGen
from headrace_statisticsgen import StatisticsGen
from headrace_trainer import Trainer
from headrace_transform import Transform

from headrace_core import Pipeline

_HERE = os.path.dirname(os.path.abspath(__file__))


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("PENGUIN_ROOT", os.path.join("build", "penguin")))
    module_file = os.path.join(_HERE, "penguin_utils.py")

    example_gen = CsvExampleGen(input_base=os.path.join(_HERE, "data"))
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
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
        train_args={"num_steps": int(os.environ.get("PENGUIN_TRAIN_STEPS", "100"))},
        eval_args={"num_steps": 5},
    )
    return Pipeline(
        pipeline_name="penguin",
        pipeline_root=root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            transform,
            trainer,
        ],
    )
