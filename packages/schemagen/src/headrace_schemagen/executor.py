"""Executors of ``SchemaGen`` (TFDV) and ``ImportSchemaGen``. Imported only when a node runs."""

from __future__ import annotations

import json
import logging
import os
import shutil
from typing import Any

from google.protobuf import text_format

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import decode_split_names, split_uri
from headrace_schemagen.schema_io import SCHEMA_FILE_NAME, read_schema

__all__ = ["Executor", "ImportSchemaGenExecutor"]

_log = logging.getLogger(__name__)

#: TFX's file names for a split's statistics: the binary list, or (artifacts from before
#: TFX 0.26) a TFRecord of it.
_STATS_BINARY = "FeatureStats.pb"
_STATS_TFRECORD = "stats_tfrecord"


def _single(artifacts: list[Artifact] | None, key: str, component: str) -> Artifact:
    if not artifacts or len(artifacts) != 1:
        raise ValueError(
            f"{component}: {key!r} needs exactly one artifact, got {len(artifacts or [])}"
        )
    return artifacts[0]


def _exclude_splits(exec_properties: dict[str, Any], component: str) -> list[str]:
    value = exec_properties.get("exclude_splits") or []
    if isinstance(value, str):  # TFX passes it JSON-encoded
        value = json.loads(value) or []
    if not isinstance(value, list):
        raise ValueError(f"{component}: exclude_splits must be a list, got {value!r}")
    return value


class Executor(BaseExecutor):
    """SchemaGen: ``tfdv.infer_schema`` on the first split, ``tfdv.update_schema`` with the rest."""

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        # Here rather than at the top: ImportSchemaGen's executor shares this module and
        # needs no TFDV (a 6 s import) to copy a file.
        import tensorflow_data_validation as tfdv

        statistics = _single(input_dict.get("statistics"), "statistics", "SchemaGen")
        output = _single(output_dict.get("schema"), "schema", "SchemaGen")
        infer_feature_shape = bool(exec_properties.get("infer_feature_shape", True))
        exclude_splits = _exclude_splits(exec_properties, "SchemaGen")

        encoded = statistics.get_property("split_names")
        all_splits = decode_split_names(encoded if isinstance(encoded, str) else None)
        if not all_splits:
            raise ValueError(
                f"SchemaGen: statistics artifact {statistics.uri} has no split_names property"
            )
        splits = [s for s in all_splits if s not in exclude_splits]
        if not splits:
            raise ValueError(
                f"SchemaGen: every split of the statistics ({', '.join(all_splits)}) is "
                "excluded; there is nothing to infer a schema from"
            )

        schema = None
        for split in splits:
            directory = split_uri(statistics, split)
            binary = os.path.join(directory, _STATS_BINARY)
            legacy = os.path.join(directory, _STATS_TFRECORD)
            if not os.path.isfile(binary) and not os.path.isfile(legacy):
                raise FileNotFoundError(
                    f"SchemaGen: split {split!r} has no statistics: {binary} does not exist"
                )
            try:
                if os.path.isfile(binary):
                    stats = tfdv.load_stats_binary(binary)
                else:
                    stats = tfdv.load_statistics(legacy)
            except Exception as e:
                raise ValueError(
                    f"SchemaGen: split {split!r}: cannot read statistics {binary}: {e}"
                ) from None
            if not stats.datasets or not stats.datasets[0].features:
                raise ValueError(
                    f"SchemaGen: split {split!r}: the statistics in {binary} describe no features"
                )
            _log.info("SchemaGen: inferring from the statistics of split %s", split)
            if schema is None:
                schema = tfdv.infer_schema(stats, infer_feature_shape=infer_feature_shape)
            else:
                schema = tfdv.update_schema(schema, stats, infer_feature_shape=infer_feature_shape)

        os.makedirs(output.uri, exist_ok=True)
        with open(os.path.join(output.uri, SCHEMA_FILE_NAME), "w", encoding="utf-8") as f:
            f.write(text_format.MessageToString(schema))


class ImportSchemaGenExecutor(BaseExecutor):
    """ImportSchemaGen: checks that ``schema_file`` parses as a Schema, then copies it."""

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        source = exec_properties.get("schema_file")
        if not isinstance(source, str) or not source:
            raise ValueError("ImportSchemaGen: schema_file is not set")
        if not os.path.isfile(source):
            raise FileNotFoundError(f"ImportSchemaGen: schema file {source} does not exist")
        output = _single(output_dict.get("schema"), "schema", "ImportSchemaGen")
        try:
            schema = read_schema(source)
        except ValueError as e:
            raise ValueError(f"ImportSchemaGen: {e}") from None
        if not (schema.feature or schema.sparse_feature or schema.weighted_feature):
            raise ValueError(f"ImportSchemaGen: {source}: the schema defines no features")
        os.makedirs(output.uri, exist_ok=True)
        shutil.copyfile(source, os.path.join(output.uri, SCHEMA_FILE_NAME))
