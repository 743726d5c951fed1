"""Executors of ``SchemaGen`` (TFDV) and ``ImportSchemaGen``. Imported only when a node runs."""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.executor import included_splits, single_input
from headrace_tfdv_io import SCHEMA_FILE, load_split_statistics, read_schema, write_schema

__all__ = ["Executor", "ImportSchemaGenExecutor"]

_log = logging.getLogger(__name__)


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

        statistics = single_input(input_dict, "statistics", component="SchemaGen")
        output = single_input(output_dict, "schema", component="SchemaGen", what="output")
        infer_feature_shape = bool(exec_properties.get("infer_feature_shape", True))
        splits = included_splits(
            statistics,
            exec_properties.get("exclude_splits"),
            component="SchemaGen",
            role="statistics",
            purpose="infer a schema from",
        )

        schema = None
        for split in splits:
            stats = load_split_statistics(statistics, split, component="SchemaGen")
            if not stats.datasets[0].features:
                raise ValueError(
                    f"SchemaGen: split {split!r}: the statistics in {statistics.uri} describe "
                    "no features"
                )
            _log.info("SchemaGen: inferring from the statistics of split %s", split)
            if schema is None:
                schema = tfdv.infer_schema(stats, infer_feature_shape=infer_feature_shape)
            else:
                schema = tfdv.update_schema(schema, stats, infer_feature_shape=infer_feature_shape)

        write_schema(schema, output.uri)


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
        output = single_input(output_dict, "schema", component="ImportSchemaGen", what="output")
        schema = read_schema(source, component="ImportSchemaGen")
        if not (schema.feature or schema.sparse_feature or schema.weighted_feature):
            raise ValueError(f"ImportSchemaGen: {source}: the schema defines no features")
        os.makedirs(output.uri, exist_ok=True)
        shutil.copyfile(source, os.path.join(output.uri, SCHEMA_FILE))
