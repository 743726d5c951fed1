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
        "serving_split_name": ExecutionParameter(
            type=str,
            optional=True,
            description=(
                "the split of serving_statistics that holds the serving data; unset: its only split"
            ),
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
        "serving_statistics": ChannelParameter(
            type=ExampleStatistics,
            optional=True,
            description=(
                "statistics of serving data for the skew comparators of the schema; every "
                "validated split is compared with its serving_split_name split"
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
    """Validates example statistics against a schema, against baseline statistics for drift
    and against serving statistics for training/serving skew.

    The ``anomalies`` output holds, per split, TFX's ``SchemaDiff.pb`` and a readable
    ``anomalies.txt`` / ``anomalies.html``; its custom properties ``blessed_<split>`` (1 clean,
    0 anomalous) and ``blessed`` (1 only when every split is clean) let a ``Cond`` guard the
    nodes that consume the data::

        with Cond(validator.outputs["anomalies"].future()[0].custom_property("blessed") == 1):
            trainer = Trainer(...)

    With ``serving_statistics`` (an input TFX does not have), each validated split is also
    compared with the serving data, split ``serving_split_name`` or the only one, by the
    schema's ``skew_comparator``s; a distance above its threshold is an anomaly of the feature.
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
        serving_statistics: Channel | None = None,
        serving_split_name: str | None = None,
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
        if serving_split_name is not None:
            if not isinstance(serving_split_name, str) or not serving_split_name:
                raise InvalidComponentArgumentError(
                    "ExampleValidator: serving_split_name must be a split name, "
                    f"got {serving_split_name!r:.80}"
                )
            if serving_statistics is None:
                raise InvalidComponentArgumentError(
                    f"ExampleValidator: serving_split_name {serving_split_name!r} is set but "
                    "input 'serving_statistics' is not given; wire it to the serving data's "
                    "StatisticsGen"
                )
        super().__init__(
            statistics=statistics,
            schema=schema,
            exclude_splits=list(exclude_splits) if exclude_splits is not None else None,
            baseline_statistics=baseline_statistics,
            fail_on_anomalies=fail_on_anomalies,
            serving_statistics=serving_statistics,
            serving_split_name=serving_split_name,
        )
