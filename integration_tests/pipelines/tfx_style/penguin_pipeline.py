"""The penguin pipeline written as a TFX 1.16 user writes one (``from tfx import v1 as tfx``,
TFX's proto messages, absl flags, ``LocalDagRunner().run`` in ``__main__``), for
``headrace tfx run``. Every name of ``tfx.v1`` that headrace maps, and every proto message a
component here takes, is used once.

    headrace tfx run penguin_pipeline.py --pipeline_root DIR [--train_steps N]

With ``from headrace_tfx import v1 as tfx`` as the only edit, ``headrace run`` runs the same
pipeline: it runs the file as ``__main__`` and takes the pipeline handed to ``LocalDagRunner``
(the flags keep their defaults: TFX_STYLE_ROOT and TFX_STYLE_TRAIN_STEPS).
"""

import os

import absl
import tensorflow_model_analysis as tfma
from absl import flags
from tfx import v1 as tfx

_HERE = os.path.dirname(os.path.abspath(__file__))
_EXAMPLE = os.path.join(_HERE, os.pardir, os.pardir, os.pardir, "examples", "penguin")
# TFX's skewed penguin data, for ExampleDiff: the shared test data beside the repository.
_SHARED = os.environ.get("HEADRACE_TEST_DATA") or os.path.join(
    _HERE, os.pardir, os.pardir, os.pardir, os.pardir, "shared", "data"
)

flags.DEFINE_string("pipeline_root", os.environ.get("TFX_STYLE_ROOT", ""), "pipeline root")
flags.DEFINE_integer("train_steps", int(os.environ.get("TFX_STYLE_TRAIN_STEPS", "50")), "steps")
FLAGS = flags.FLAGS


def _eval_config() -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key="species",
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["body_mass_bucket"])],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.6}),
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                absolute={"value": -1e-10},
                            ),
                        ),
                    )
                ]
            )
        ],
    )


def _pipeline(root: str, train_steps: int) -> tfx.dsl.Pipeline:
    module_file = os.path.join(_EXAMPLE, "penguin_utils.py")
    example_gen = tfx.components.CsvExampleGen(
        input_base=os.path.join(_EXAMPLE, "data"),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern="*")]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name="train", hash_buckets=2),
                    tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1),
                ]
            )
        ),
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    # As TFX's penguin_pipeline_local: each run's Transform reads the last run's analyzer cache.
    transform_cache_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
        cache=tfx.dsl.Channel(type=tfx.types.standard_artifacts.TransformCache),
    ).with_id("transform_cache_resolver")
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=module_file,
        splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval"]),
        analyzer_cache=transform_cache_resolver.outputs["cache"],
    )
    tuner = tfx.components.Tuner(
        module_file=os.path.join(_EXAMPLE, "penguin_tuning.py"),
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        train_args=tfx.proto.TrainArgs(num_steps=max(train_steps // 4, 1)),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
        tune_args=tfx.proto.TuneArgs(num_parallel_trials=1),
    )
    trainer = tfx.components.Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=tuner.outputs["best_hyperparameters"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
    )
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=_eval_config(),
    )
    infra_validator = tfx.components.InfraValidator(
        model=trainer.outputs["model"],
        examples=example_gen.outputs["examples"],
        serving_spec=tfx.proto.ServingSpec(
            tensorflow_serving=tfx.proto.TensorFlowServing(tags=["latest"]),
            local_docker=tfx.proto.LocalDockerConfig(),
        ),
        validation_spec=tfx.proto.ValidationSpec(max_loading_time_seconds=120, num_tries=2),
        request_spec=tfx.proto.RequestSpec(
            tensorflow_serving=tfx.proto.TensorFlowServingRequestSpec(
                signature_names=["serving_default"]
            ),
            num_examples=8,
            make_warmup=True,
        ),
    )
    with tfx.dsl.Cond(evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        # No model: the InfraValidator's stamped model, with its warm-up requests, is pushed.
        pusher = tfx.components.Pusher(
            model_blessing=evaluator.outputs["blessing"],
            infra_blessing=infra_validator.outputs["blessing"],
            push_destination=tfx.proto.PushDestination(
                filesystem=tfx.proto.PushDestination.Filesystem(
                    base_directory=os.path.join(root, "serving_model"),
                    versioning=tfx.proto.Versioning.UNIX_TIMESTAMP,
                )
            ),
        )
    bulk_inferrer = tfx.components.BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        data_spec=tfx.proto.DataSpec(example_splits=["eval"]),
        model_spec=tfx.proto.ModelSpec(model_signature_name=["serving_default"]),
    )
    bulk_examples = tfx.components.BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        data_spec=tfx.proto.DataSpec(),
        model_spec=tfx.proto.ModelSpec(),
        output_example_spec=tfx.proto.OutputExampleSpec(
            output_columns_spec=[
                tfx.proto.OutputColumnsSpec(
                    predict_output=tfx.proto.PredictOutput(
                        output_columns=[
                            tfx.proto.PredictOutputCol(
                                output_key="output_0", output_column="logits"
                            )
                        ]
                    )
                )
            ]
        ),
    ).with_id("BulkInferrerExamples")
    skewed_example_gen = tfx.components.CsvExampleGen(
        input_base=os.path.join(_SHARED, "penguin"),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern="*_skewed.csv")]
        ),
    ).with_id("CsvExampleGen_Skewed")
    example_diff = tfx.components.ExampleDiff(
        examples_test=example_gen.outputs["examples"],
        examples_base=skewed_example_gen.outputs["examples"],
        config=tfx.proto.ExampleDiffConfig(
            paired_example_skew=tfx.proto.PairedExampleSkew(
                skew_sample_size=2, identifier_features=["culmen_length_mm"], float_round_ndigits=6
            )
        ),
        include_split_pairs=[("train", "train"), ("train", "eval")],
    )
    return tfx.dsl.Pipeline(
        pipeline_name="tfx_style_penguin",
        pipeline_root=root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            transform_cache_resolver,
            transform,
            tuner,
            trainer,
            model_resolver,
            evaluator,
            infra_validator,
            pusher,
            bulk_inferrer,
            bulk_examples,
            skewed_example_gen,
            example_diff,
        ],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")
        ),
    )


def main(_: list[str]) -> None:
    tfx.orchestration.LocalDagRunner().run(_pipeline(FLAGS.pipeline_root, FLAGS.train_steps))


if __name__ == "__main__":
    absl.app.run(main)
