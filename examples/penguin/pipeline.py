"""The penguin pipeline, as TFX's penguin example: CSV in, a blessed model pushed to a serving
directory out. headrace's main job (``tools/example``).

    headrace run examples/penguin/pipeline.py

The new model is evaluated overall and per body-mass bucket; it is blessed only if its accuracy
is at least 0.6 and no worse than the latest blessed model's (the first run has no baseline, so
the change threshold is waived), and only a blessed model is pushed, to
``<root>/serving_model/<version>/``: the destination is written against the pipeline root
(``os.path.join(PIPELINE_ROOT, ...)``, where TFX's example joins its ``pipeline_root``), so
``headrace run examples/penguin/pipeline.py --pipeline-root DIR`` keeps everything, the pushed
models too, under DIR.

PENGUIN_ROOT moves the default pipeline root (build/penguin); PENGUIN_TRAIN_STEPS changes the
training length; PENGUIN_MIN_ACCURACY the accuracy a model needs to be blessed.
"""

from __future__ import annotations

import os

from headrace_evaluator import Evaluator
from headrace_examplegen import CsvExampleGen
from headrace_examplevalidator import ExampleValidator
from headrace_pusher import Pusher
from headrace_schemagen import SchemaGen
from headrace_statisticsgen import StatisticsGen
from headrace_trainer import Trainer
from headrace_transform import Transform

from headrace_core import (
    PIPELINE_ROOT,
    Channel,
    Cond,
    LatestBlessedModelStrategy,
    Model,
    ModelBlessing,
    Pipeline,
    Resolver,
)

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
    # The baseline: the latest model the Evaluator blessed in an earlier run, if any.
    model_resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=Model),
        model_blessing=Channel(type=ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=_eval_config(float(os.environ.get("PENGUIN_MIN_ACCURACY", "0.6"))),
    )
    with Cond(evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        pusher = Pusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            push_destination={
                "filesystem": {"base_directory": os.path.join(PIPELINE_ROOT, "serving_model")}
            },
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
            model_resolver,
            evaluator,
            pusher,
        ],
    )


def _eval_config(min_accuracy: float) -> str:
    """tfma.EvalConfig in text form: the pipeline file stays free of TensorFlow imports, so
    compiling it (and a fully cached run) takes a second, not ten."""
    return f"""
        model_specs {{
          signature_name: "serving_default"
          label_key: "species"
          preprocessing_function_names: "transform_features"
        }}
        slicing_specs {{}}
        slicing_specs {{ feature_keys: "body_mass_bucket" }}
        metrics_specs {{
          metrics {{
            class_name: "SparseCategoricalAccuracy"
            threshold {{
              value_threshold {{ lower_bound {{ value: {min_accuracy} }} }}
              change_threshold {{
                direction: HIGHER_IS_BETTER
                absolute {{ value: -1e-10 }}
              }}
            }}
          }}
        }}
    """
