"""Module file of the penguin pipeline: feature engineering and training, in TFX's style.

`preprocessing_fn` runs in Transform (full-pass statistics on Beam); `run_fn` runs in the
Trainer. The exported serving signature takes raw serialized tf.Examples and applies the same
transform graph, so serving sees exactly the feature engineering training saw.

A TFX penguin module moves here by changing nothing but the imports.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

_FEATURE_KEYS = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
_LABEL_KEY = "species"
_TRAIN_BATCH_SIZE = 20
_EVAL_BATCH_SIZE = 10


_SLICE_KEY = "body_mass_bucket"


def preprocessing_fn(inputs: dict[str, Any]) -> dict[str, Any]:
    """Scale each feature to zero mean and unit variance over the whole training set.

    ``body_mass_bucket`` (body mass in three quantile buckets) is not a model input: the
    Evaluator slices its metrics by it, through the ``transform_features`` signature.
    """
    outputs = {key: tft.scale_to_z_score(inputs[key]) for key in _FEATURE_KEYS}
    outputs[_SLICE_KEY] = tft.bucketize(inputs["body_mass_g"], num_buckets=3)
    outputs[_LABEL_KEY] = inputs[_LABEL_KEY]
    return outputs


def input_fn(
    file_pattern: list[str], data_accessor: Any, tf_transform_output: Any, batch_size: int
) -> tf.data.Dataset:
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=_LABEL_KEY),
        tf_transform_output.transformed_metadata.schema,
    )
    # The model's inputs only: the slicing feature stays out of training.
    return dataset.map(lambda x, y: ({k: x[k] for k in _FEATURE_KEYS}, y)).repeat()


def _serve_tf_examples_fn(model: Any, tf_transform_output: Any) -> Any:
    """The serving signature: raw serialized tf.Examples in, logits out."""
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized_tf_examples: tf.Tensor) -> tf.Tensor:
        feature_spec = tf_transform_output.raw_feature_spec()
        feature_spec.pop(_LABEL_KEY)
        parsed = tf.io.parse_example(serialized_tf_examples, feature_spec)
        transformed = model.tft_layer(parsed)
        return model({key: transformed[key] for key in _FEATURE_KEYS})

    return serve_tf_examples_fn


def _transform_features_fn(model: Any, tf_transform_output: Any) -> Any:
    """Raw serialized tf.Examples in, transformed features out: what the Evaluator slices on."""
    model.tft_layer_eval = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features_fn(serialized_tf_examples: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(serialized_tf_examples, tf_transform_output.raw_feature_spec())
        return model.tft_layer_eval(parsed)

    return transform_features_fn


def build_keras_model(learning_rate: float = 1e-2, num_layers: int = 2) -> Any:
    """The DNN; its two hyperparameters are what ``penguin_tuning.tuner_fn`` searches."""
    keras = tf.keras
    inputs = [keras.layers.Input(shape=(1,), name=key) for key in _FEATURE_KEYS]
    d = keras.layers.concatenate(inputs)
    for _ in range(int(num_layers)):
        d = keras.layers.Dense(8, activation="relu")(d)
    outputs = keras.layers.Dense(3)(d)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def run_fn(fn_args: Any) -> None:
    """Train the model and export it with a serving signature over raw examples.

    With a Tuner upstream, ``fn_args.hyperparameters`` is its best trial's KerasTuner config;
    its values (``learning_rate``, ``num_layers``) replace the defaults.
    """
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train_dataset = input_fn(
        fn_args.train_files, fn_args.data_accessor, tf_transform_output, _TRAIN_BATCH_SIZE
    )
    eval_dataset = input_fn(
        fn_args.eval_files, fn_args.data_accessor, tf_transform_output, _EVAL_BATCH_SIZE
    )
    tuned = (fn_args.hyperparameters or {}).get("values", {})
    model = build_keras_model(
        **{k: tuned[k] for k in ("learning_rate", "num_layers") if k in tuned}
    )
    model.fit(
        train_dataset,
        steps_per_epoch=fn_args.train_steps,
        validation_data=eval_dataset,
        validation_steps=fn_args.eval_steps,
        verbose=2,
    )
    signatures = {
        "serving_default": _serve_tf_examples_fn(model, tf_transform_output),
        "transform_features": _transform_features_fn(model, tf_transform_output),
    }
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)
