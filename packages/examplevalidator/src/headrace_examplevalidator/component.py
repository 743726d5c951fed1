"""The ``ExampleValidator`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from collections.abc import Sequence

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    ExampleAnomalies,
    ExampleStatistics,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Schema,
)

__all__ = ["ExampleValidator", "ExampleValidatorSpec"]


class ExampleValidatorSpec(ComponentSpec):
    PARAMETERS = {
        "exclude_splits": ExecutionParameter(
            type=list, optional=True, description="names of splits not to validate"
        ),
        "fail_on_anomalies": ExecutionParameter(
            type=bool,
            default=False,
            description="raise (and publish nothing) when any validated split has an anomaly",
        ),
    }
    INPUTS = {
        "statistics": ChannelParameter(
            type=ExampleStatistics, description="statistics to validate, one file per split"
        ),
        "schema": ChannelParameter(type=Schema, description="the schema to validate against"),
        "baseline_statistics": ChannelParameter(
            type=ExampleStatistics,
            optional=True,
            description=(
                "earlier statistics (a previous span) for the drift comparators of the schema; "
                "each split is compared with the baseline's split of the same name"
            ),
        ),
    }
    OUTPUTS = {
        "anomalies": ChannelParameter(
            type=ExampleAnomalies,
            description="Split-<name>/SchemaDiff.pb (tensorflow_metadata Anomalies) per split",
        ),
    }


class ExampleValidator(BaseComponent):
    """Validates example statistics against a schema, and against baseline statistics for drift.

    The ``anomalies`` output holds, per split, TFX's ``SchemaDiff.pb`` and a readable
    ``anomalies.txt`` / ``anomalies.html``; its custom properties ``blessed_<split>`` (1 clean,
    0 anomalous) and ``blessed`` (1 only when every split is clean) let a ``Cond`` guard the
    nodes that consume the data::

        with Cond(validator.outputs["anomalies"].future()[0].custom_property("blessed") == 1):
            trainer = Trainer(...)
    """

    SPEC_CLASS = ExampleValidatorSpec
    EXECUTOR_SPEC = "headrace_examplevalidator.executor:Executor"

    def __init__(
        self,
        statistics: Channel,
        schema: Channel,
        exclude_splits: Sequence[str] | None = None,
        baseline_statistics: Channel | None = None,
        fail_on_anomalies: bool = False,
    ) -> None:
        if exclude_splits is not None and (
            isinstance(exclude_splits, str)
            or not isinstance(exclude_splits, Sequence)
            or not all(isinstance(s, str) and s for s in exclude_splits)
        ):
            raise InvalidComponentArgumentError(
                "ExampleValidator: exclude_splits must be a list of split names, "
                f"got {exclude_splits!r:.80}"
            )
        super().__init__(
            statistics=statistics,
            schema=schema,
            exclude_splits=list(exclude_splits) if exclude_splits is not None else None,
            baseline_statistics=baseline_statistics,
            fail_on_anomalies=fail_on_anomalies,
        )
