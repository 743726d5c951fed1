"""``SchemaGen`` and ``ImportSchemaGen``: specs and executor references. Never imports TFDV."""

from __future__ import annotations

from collections.abc import Sequence

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    ExampleStatistics,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Schema,
)

__all__ = ["ImportSchemaGen", "ImportSchemaGenSpec", "SchemaGen", "SchemaGenSpec"]


class SchemaGenSpec(ComponentSpec):
    PARAMETERS = {
        "infer_feature_shape": ExecutionParameter(
            type=bool,
            default=True,
            description="infer a fixed shape for features present once in every example",
        ),
        "exclude_splits": ExecutionParameter(
            type=list, optional=True, description="names of splits not to infer the schema from"
        ),
    }
    INPUTS = {
        "statistics": ChannelParameter(
            type=ExampleStatistics, description="Split-<name>/FeatureStats.pb per split"
        ),
    }
    OUTPUTS = {"schema": ChannelParameter(type=Schema, description="schema.pbtxt")}


class SchemaGen(BaseComponent):
    """Infers a schema from the statistics of every non-excluded split, as TFX does.

    The first split's statistics give ``tfdv.infer_schema``'s schema; each further split
    updates it with ``tfdv.update_schema``.
    """

    SPEC_CLASS = SchemaGenSpec
    EXECUTOR_SPEC = "headrace_schemagen.executor:Executor"

    def __init__(
        self,
        statistics: Channel | None = None,
        infer_feature_shape: bool | None = None,
        exclude_splits: Sequence[str] | None = None,
    ) -> None:
        if exclude_splits is not None and (
            isinstance(exclude_splits, str) or not all(isinstance(s, str) for s in exclude_splits)
        ):
            raise InvalidComponentArgumentError(
                f"SchemaGen: exclude_splits must be a list of split names, got "
                f"{exclude_splits!r:.80}"
            )
        super().__init__(
            statistics=statistics,
            infer_feature_shape=infer_feature_shape,
            exclude_splits=None if exclude_splits is None else list(exclude_splits),
        )


class ImportSchemaGenSpec(ComponentSpec):
    PARAMETERS = {
        "schema_file": ExecutionParameter(
            type=str, description="path of a curated schema in text format (schema.pbtxt)"
        ),
    }
    OUTPUTS = {"schema": ChannelParameter(type=Schema, description="schema.pbtxt")}


class ImportSchemaGen(BaseComponent):
    """Brings a curated schema file into the pipeline as a Schema artifact.

    The file must parse as a tensorflow-metadata ``Schema``; it is copied unchanged to
    ``schema.pbtxt``. Its content is part of the cache key, so editing it re-runs the node.
    """

    SPEC_CLASS = ImportSchemaGenSpec
    EXECUTOR_SPEC = "headrace_schemagen.executor:ImportSchemaGenExecutor"
    DRIVER_SPEC = "headrace_schemagen.driver:import_schema_driver"

    def __init__(self, schema_file: str | None = None) -> None:
        if schema_file is not None and (not isinstance(schema_file, str) or not schema_file):
            raise InvalidComponentArgumentError(
                f"ImportSchemaGen: schema_file must be a path, got {schema_file!r:.80}"
            )
        super().__init__(schema_file=schema_file)
