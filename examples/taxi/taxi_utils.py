"""Module file of the Chicago taxi pipeline, as TFX's taxi example: a vocabulary for the string
features, bucketized coordinates, z-scored numerics, and a small Keras model on top."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

DENSE_FLOAT_FEATURE_KEYS = ["trip_miles", "fare", "trip_seconds"]
BUCKET_FEATURE_KEYS = [
    "pickup_latitude",
    "pickup_longitude",
    "dropoff_latitude",
    "dropoff_longitude",
]
FEATURE_BUCKET_COUNT = 10
CATEGORICAL_FEATURE_KEYS = [
    "trip_start_hour",
    "trip_start_day",
    "trip_start_month",
    "pickup_census_tract",
    "dropoff_census_tract",
    "pickup_community_area",
    "dropoff_community_area",
]
VOCAB_FEATURE_KEYS = ["payment_type", "company"]
VOCAB_SIZE = 1000
OOV_SIZE = 10
LABEL_KEY = "tips"
FARE_KEY = "fare"


def transformed_name(key: str) -> str:
    return key + "_xf"


def fill_in_missing(x: Any) -> Any:
    """A missing value (a sparse tensor with no value in a row) becomes '' or 0."""
    if not isinstance(x, tf.sparse.SparseTensor):
        return x
    default_value = "" if x.dtype == tf.string else 0
    return tf.squeeze(
        tf.sparse.to_dense(
            tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), default_value
        ),
        axis=1,
    )


def preprocessing_fn(inputs: dict[str, Any]) -> dict[str, Any]:
    outputs = {}
    for key in DENSE_FLOAT_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.scale_to_z_score(fill_in_missing(inputs[key]))
    for key in VOCAB_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(
            fill_in_missing(inputs[key]), top_k=VOCAB_SIZE, num_oov_buckets=OOV_SIZE
        )
    for key in BUCKET_FEATURE_KEYS:
        outputs[transformed_name(key)] = tft.bucketize(
            fill_in_missing(inputs[key]), FEATURE_BUCKET_COUNT
        )
    for key in CATEGORICAL_FEATURE_KEYS:
        outputs[transformed_name(key)] = fill_in_missing(inputs[key])
    taxi_fare = fill_in_missing(inputs[FARE_KEY])
    tips = fill_in_missing(inputs[LABEL_KEY])
    outputs[transformed_name(LABEL_KEY)] = tf.where(
        tf.math.is_nan(taxi_fare),
        tf.cast(tf.zeros_like(taxi_fare), tf.int64),
        tf.cast(tf.greater(tips, tf.multiply(taxi_fare, tf.constant(0.2))), tf.int64),
    )
    return outputs


_BATCH_SIZE = 64


def _input_fn(file_pattern: list[str], data_accessor: Any, tf_transform_output: Any) -> Any:
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=_BATCH_SIZE, label_key=transformed_name(LABEL_KEY)
        ),
        tf_transform_output.transformed_metadata.schema,
    )
    return dataset.map(lambda f, y: ({k: tf.reshape(v, [-1, 1]) for k, v in f.items()}, y)).repeat()


def _build_keras_model() -> Any:
    keras = tf.keras
    dense = [
        keras.layers.Input(shape=(1,), name=transformed_name(k)) for k in DENSE_FLOAT_FEATURE_KEYS
    ]
    buckets = [
        keras.layers.Input(shape=(1,), name=transformed_name(k), dtype="int64")
        for k in BUCKET_FEATURE_KEYS
    ]
    vocab = [
        keras.layers.Input(shape=(1,), name=transformed_name(k), dtype="int64")
        for k in VOCAB_FEATURE_KEYS
    ]
    parts = list(dense)
    parts += [
        keras.layers.CategoryEncoding(num_tokens=FEATURE_BUCKET_COUNT + 1, output_mode="one_hot")(b)
        for b in buckets
    ]
    parts += [
        keras.layers.Flatten()(keras.layers.Embedding(VOCAB_SIZE + OOV_SIZE, 4)(v)) for v in vocab
    ]
    x = keras.layers.concatenate(parts)
    x = keras.layers.Dense(16, activation="relu")(x)
    output = keras.layers.Dense(1)(x)
    model = keras.Model(inputs=dense + buckets + vocab, outputs=output)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )
    return model


def run_fn(fn_args: Any) -> None:
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output)
    evaluation = _input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output)
    model = _build_keras_model()
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        verbose=2,
    )
    model.save(fn_args.serving_model_dir, save_format="tf")
