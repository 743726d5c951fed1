"""What ``run_fn(fn_args)`` receives: TFX's ``FnArgs`` and ``DataAccessor``, field for field.

Defined without TensorFlow so user modules and type hints can import them cheaply; the
executor fills them in (and builds the dataset factories, which do import tfx-bsl).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["DataAccessor", "FnArgs"]


class DataAccessor(NamedTuple):
    """Reads the examples of ``fn_args.train_files`` / ``eval_files``, as TFX's DataAccessor.

    ``tf_dataset_factory(file_pattern, options, schema=None)`` returns a ``tf.data.Dataset``
    of ``(features, label)`` batches built by tfx-bsl from
    ``tfxio.TensorFlowDatasetOptions(batch_size=..., label_key=...)``;
    ``record_batch_factory(file_pattern, options, schema=None)`` iterates Arrow record batches
    (``tfxio.RecordBatchesOptions``). Without a ``schema`` both use the transformed schema
    when the Trainer has a transform graph, else the raw ``schema`` input.
    """

    tf_dataset_factory: Callable[..., Any]
    record_batch_factory: Callable[..., Any]
    data_view_decode_fn: Callable[..., Any] | None = None


@dataclass
class FnArgs:
    """Arguments of ``run_fn``; TFX's names and meanings.

    Attributes:
        working_dir: unused by the Trainer (TFX's Tuner sets it); None.
        train_files: file patterns of the training splits, ``<examples>/Split-train/*``.
        eval_files: file patterns of the evaluation splits, ``<examples>/Split-eval/*``.
        train_steps: ``train_args.num_steps``, None when unset.
        eval_steps: ``eval_args.num_steps``, None when unset.
        schema_path: the schema file of the ``schema`` input, or None.
        schema_file: the same (TFX's deprecated name).
        transform_graph_path: the ``transform_graph`` artifact's directory, or None.
        transform_output: the same (TFX's deprecated name).
        data_accessor: dataset factories over the examples.
        serving_model_dir: where to export the SavedModel: ``<model>/Format-Serving``.
        eval_model_dir: ``<model>/Format-TFMA`` (for estimators; Keras models need not use it).
        model_run_dir: the ``model_run`` artifact's directory, for TensorBoard logs.
        base_model: the ``base_model`` input's ``Format-Serving`` directory, or None.
        hyperparameters: the ``hyperparameters`` input's JSON, or None.
        custom_config: the ``custom_config`` parameter, or None.
    """

    working_dir: str | None = None
    train_files: list[str] | None = None
    eval_files: list[str] | None = None
    train_steps: int | None = None
    eval_steps: int | None = None
    schema_path: str | None = None
    schema_file: str | None = None
    transform_graph_path: str | None = None
    transform_output: str | None = None
    data_accessor: DataAccessor | None = None
    serving_model_dir: str | None = None
    eval_model_dir: str | None = None
    model_run_dir: str | None = None
    base_model: str | None = None
    hyperparameters: dict[str, Any] | None = None
    custom_config: dict[str, Any] | None = None
