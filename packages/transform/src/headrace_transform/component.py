"""The ``Transform`` component: its spec and a reference to its executor, nothing heavy.

Importing this module never imports TensorFlow, Beam or tf.Transform: pipelines are defined,
compiled and inspected without them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Schema,
    TransformCache,
    TransformGraph,
)
from headrace_core.component import config_dict, is_proto_class

__all__ = ["Transform", "TransformSpec", "normalize_splits_config"]

_SPLITS_CONFIG_KEYS = ("analyze", "transform")


def normalize_splits_config(value: Any, where: str = "Transform") -> dict[str, list[str]] | None:
    """Check a TFX ``SplitsConfig`` given as a dict (or its JSON) and return it as a dict.

    TFX's shape: ``{"analyze": ["train"], "transform": ["train", "eval"]}``. ``analyze`` must
    not be empty when the config is given; a missing ``transform`` means every split.
    """
    if value is None:
        return None
    if is_proto_class(type(value)):  # TFX's transform_pb2.SplitsConfig
        value = config_dict(value, f"{where}: splits_config", expected="a SplitsConfig")
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as e:
            raise InvalidComponentArgumentError(
                f"{where}: splits_config is not valid JSON: {e}"
            ) from None
        if value is None:
            return None
    if not isinstance(value, Mapping):
        raise InvalidComponentArgumentError(
            f"{where}: splits_config must be a dict such as "
            f'{{"analyze": ["train"], "transform": ["train", "eval"]}}, got '
            f"{type(value).__name__} {value!r:.80}"
        )
    unknown = sorted(set(value) - set(_SPLITS_CONFIG_KEYS))
    if unknown:
        raise InvalidComponentArgumentError(
            f"{where}: splits_config has unknown key(s) {', '.join(map(repr, unknown))}; "
            "accepted: 'analyze', 'transform'"
        )
    result: dict[str, list[str]] = {}
    for key in _SPLITS_CONFIG_KEYS:
        names = value.get(key)
        if names is None:
            continue
        if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
            raise InvalidComponentArgumentError(
                f"{where}: splits_config[{key!r}] must be a list of split names, got {names!r:.80}"
            )
        if len(set(names)) != len(names):
            raise InvalidComponentArgumentError(
                f"{where}: splits_config[{key!r}] names a split twice: {names!r}"
            )
        result[key] = list(names)
    if not result.get("analyze"):
        raise InvalidComponentArgumentError(
            f"{where}: splits_config['analyze'] cannot be empty when splits_config is set "
            "(TFX's rule: say which splits the analyzers see)"
        )
    return result


class TransformSpec(ComponentSpec):
    PARAMETERS = {
        "module_file": ExecutionParameter(
            type=str,
            optional=True,
            description=(
                "path to a Python file defining preprocessing_fn(inputs[, custom_config]); "
                "its content and the .py files beside it enter the cache key"
            ),
        ),
        "preprocessing_fn": ExecutionParameter(
            type=str,
            optional=True,
            description="dotted path 'package.module.function' of an importable preprocessing_fn",
        ),
        "splits_config": ExecutionParameter(
            type=dict,
            optional=True,
            description=(
                'TFX SplitsConfig as a dict: {"analyze": [...], "transform": [...]}; '
                "default: analyze 'train', transform every split"
            ),
        ),
        "materialize": ExecutionParameter(
            type=bool,
            default=True,
            description="write the transformed examples (transformed_examples output)",
        ),
        "disable_analyzer_cache": ExecutionParameter(
            type=bool,
            default=False,
            description="neither read nor write the tf.Transform analyzer cache",
        ),
        "custom_config": ExecutionParameter(
            type=dict,
            optional=True,
            description="passed to preprocessing_fn as custom_config when it takes that argument",
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples,
            description="gzipped tf.Example TFRecords in Split-<name>/; splits from split_names",
        ),
        "schema": ChannelParameter(type=Schema, description="the raw data's schema: schema.pbtxt"),
        "analyzer_cache": ChannelParameter(
            type=TransformCache,
            optional=True,
            description=(
                "updated_analyzer_cache of an earlier run: analyzers over unchanged data are "
                "read from it instead of recomputed; not in the cache key (tf.Transform's "
                "outputs are the same with or without it)"
            ),
            # Else feeding each run's cache to the next (TFX's transform_cache_resolver)
            # makes every run's Transform, and all below it, a cache miss.
            in_cache_key=False,
        ),
    }
    OUTPUTS = {
        "transform_graph": ChannelParameter(
            type=TransformGraph,
            description=(
                "a TFTransformOutput directory (transform_fn/, transformed_metadata/, "
                "metadata/): load it with tft.TFTransformOutput(uri)"
            ),
        ),
        "transformed_examples": ChannelParameter(
            type=Examples,
            optional=True,
            allow_empty=True,
            description=(
                "Split-<name>/ gzipped TFRecords of transformed tf.Examples; empty when "
                "materialize=False"
            ),
        ),
        "updated_analyzer_cache": ChannelParameter(
            type=TransformCache,
            optional=True,
            allow_empty=True,
            description=(
                "the analyzer cache for the analyzed data, for the next run's analyzer_cache; "
                "empty when disable_analyzer_cache=True"
            ),
        ),
    }


class Transform(BaseComponent):
    """TFX's Transform: runs a ``preprocessing_fn`` with tf.Transform on Apache Beam.

    The analyzers (``tft.scale_to_z_score``, ``tft.compute_and_apply_vocabulary``...) see the
    ``analyze`` splits; the resulting graph transforms the ``transform`` splits. Outputs keep
    TFX's keys and formats: ``transform_graph`` (load with ``tft.TFTransformOutput(uri)``),
    ``transformed_examples`` and ``updated_analyzer_cache``::

        transform = Transform(
            examples=example_gen.outputs["examples"],
            schema=schema_gen.outputs["schema"],
            module_file="preprocessing.py",
        )

    Feed ``updated_analyzer_cache`` of a previous run back as ``analyzer_cache`` and the
    analyzers over unchanged data (same split, same content) are not recomputed.
    """

    SPEC_CLASS = TransformSpec
    EXECUTOR_SPEC = "headrace_transform.executor:Executor"
    # tf.Transform's SavedModels and its Keras layer are Keras 2 (tf_keras) objects.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        examples: Channel,
        schema: Channel,
        module_file: str | None = None,
        preprocessing_fn: str | None = None,
        splits_config: Mapping[str, Any] | None = None,
        materialize: bool = True,
        analyzer_cache: Channel | None = None,
        disable_analyzer_cache: bool = False,
        custom_config: Mapping[str, Any] | None = None,
    ) -> None:
        if (module_file is None) == (preprocessing_fn is None):
            raise InvalidComponentArgumentError(
                "Transform: pass exactly one of module_file (a path to a Python file defining "
                "preprocessing_fn) and preprocessing_fn (a 'module.function' path)"
                + (", not both" if module_file is not None else "")
            )
        if module_file is not None and (not isinstance(module_file, str) or not module_file):
            raise InvalidComponentArgumentError(
                f"Transform: module_file must be a non-empty path, got {module_file!r:.80}"
            )
        if preprocessing_fn is not None and (
            not isinstance(preprocessing_fn, str) or "." not in preprocessing_fn.strip(".")
        ):
            raise InvalidComponentArgumentError(
                "Transform: preprocessing_fn must be a dotted path 'module.function', got "
                f"{preprocessing_fn!r:.80}"
            )
        if analyzer_cache is not None and disable_analyzer_cache:
            raise InvalidComponentArgumentError(
                "Transform: analyzer_cache is given but disable_analyzer_cache=True; "
                "drop one of them"
            )
        super().__init__(
            examples=examples,
            schema=schema,
            module_file=module_file,
            preprocessing_fn=preprocessing_fn,
            splits_config=normalize_splits_config(splits_config),
            materialize=materialize,
            analyzer_cache=analyzer_cache,
            disable_analyzer_cache=disable_analyzer_cache,
            custom_config=dict(custom_config) if custom_config is not None else None,
        )
