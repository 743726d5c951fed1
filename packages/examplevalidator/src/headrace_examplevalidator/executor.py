"""``ExampleValidator``'s executor: TFDV's ``validate_statistics``, split by split.

Imported only when the node runs (TFDV imports TensorFlow). Reads TFX's layouts:
statistics in ``<uri>/Split-<name>/FeatureStats.pb`` (a serialized
DatasetFeatureStatisticsList; the older ``stats_tfrecord`` is read too), the schema in
``<uri>/schema.pbtxt``. Writes TFX's ``Split-<name>/SchemaDiff.pb`` plus readable reports.

Drift compares each split with the baseline's split of the same name; skew compares each split
with one split of ``serving_statistics`` (TFX has no serving input: its users call TFDV's
``validate_statistics(..., serving_statistics=...)`` themselves).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import decode_split_names, encode_split_names, split_uri
from headrace_core.executor import included_splits, single_input
from headrace_examplevalidator.errors import AnomaliesFoundError
from headrace_examplevalidator.report import (
    ANOMALIES_FILE,
    HTML_FILE,
    TEXT_FILE,
    SplitReport,
    render_html,
    render_text,
    split_report,
)
from headrace_tfdv_io import SCHEMA_FILE, STATS_FILE, load_schema, load_split_statistics

__all__ = ["SCHEMA_FILE", "STATS_FILE", "Executor"]

log = logging.getLogger(__name__)


def _write(path: str, data: str | bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, bytes):
        with open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)


def _serving_split(serving: Artifact, wanted: Any) -> str:
    """The split of ``serving`` that holds the serving data: ``serving_split_name``, or the only
    split. Guessing among several would silently measure skew against the wrong data."""
    encoded = serving.get_property("split_names")
    names = decode_split_names(encoded if isinstance(encoded, str) else None)
    listed = ", ".join(names) or "none"
    if wanted:
        if wanted not in names:
            raise ValueError(
                f"ExampleValidator: serving_split_name {wanted!r} is not a split of "
                f"serving_statistics {serving.uri} (its splits: {listed})"
            )
        return str(wanted)
    if len(names) != 1:
        raise ValueError(
            f"ExampleValidator: serving_statistics {serving.uri} has "
            f"{'no splits' if not names else f'{len(names)} splits ({listed})'}; set "
            "serving_split_name to the one that holds the serving data"
        )
    return names[0]


class Executor(BaseExecutor):
    """Validates each split of ``statistics`` against ``schema`` (and ``baseline_statistics``,
    ``serving_statistics``)."""

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        component = "ExampleValidator"
        statistics = single_input(input_dict, "statistics", component=component)
        schema_artifact = single_input(input_dict, "schema", component=component)
        baseline = single_input(
            input_dict, "baseline_statistics", component=component, optional=True
        )
        serving = single_input(input_dict, "serving_statistics", component=component, optional=True)
        output = single_input(output_dict, "anomalies", component=component, what="output")
        fail_on_anomalies = bool(exec_properties.get("fail_on_anomalies", False))

        splits = included_splits(
            statistics,
            exec_properties.get("exclude_splits"),
            component=component,
            role="statistics",
            purpose="validate",
        )
        baseline_splits: list[str] = []
        if baseline is not None:
            encoded = baseline.get_property("split_names")
            baseline_splits = decode_split_names(encoded if isinstance(encoded, str) else None)
            missing = [s for s in splits if s not in baseline_splits]
            if missing:
                raise ValueError(
                    f"ExampleValidator: baseline_statistics {baseline.uri} has no split "
                    f"{', '.join(repr(s) for s in missing)} to compare with (its splits: "
                    f"{', '.join(baseline_splits) or 'none'})"
                )

        serving_split, serving_stats = None, None
        if serving is not None:
            serving_split = _serving_split(serving, exec_properties.get("serving_split_name"))
            serving_stats = load_split_statistics(
                serving, serving_split, component=component, role="serving_statistics"
            )

        schema = load_schema(schema_artifact.uri, component=component)
        import tensorflow_data_validation as tfdv

        reports: list[SplitReport] = []
        for split in splits:
            current = load_split_statistics(statistics, split, component=component)
            previous = (
                load_split_statistics(
                    baseline, split, component=component, role="baseline_statistics"
                )
                if baseline is not None
                else None
            )
            try:
                anomalies = tfdv.validate_statistics(
                    current,
                    schema,
                    previous_statistics=previous,
                    serving_statistics=serving_stats,
                )
            except (ValueError, TypeError, RuntimeError) as e:
                raise ValueError(
                    f"ExampleValidator: cannot validate split '{split}' of {statistics.uri} "
                    f"against {schema_artifact.uri}: {e}"
                ) from e
            directory = split_uri(output, split)
            _write(os.path.join(directory, ANOMALIES_FILE), anomalies.SerializeToString())
            report = split_report(split, anomalies)
            title = f"Anomalies of split '{split}'"
            _write(os.path.join(directory, TEXT_FILE), render_text([report]))
            _write(os.path.join(directory, HTML_FILE), render_html([report], title))
            reports.append(report)
            log.info(
                "split %s: %s",
                split,
                "no anomalies" if report.blessed else ", ".join(report.features),
            )
        _write(
            os.path.join(output.uri, HTML_FILE),
            render_html(reports, f"Anomalies of {statistics.uri}"),
        )

        output.split_names = encode_split_names(splits)
        span = statistics.get_property("span")
        output.span = span if isinstance(span, int) else 0
        for report in reports:
            output.set_custom_property(f"blessed_{report.split}", int(report.blessed))
            output.set_custom_property(f"num_anomalies_{report.split}", len(report.anomalies))
        output.set_custom_property("blessed", int(all(r.blessed for r in reports)))
        output.set_custom_property("num_anomalies", sum(len(r.anomalies) for r in reports))
        if baseline is not None:
            output.set_custom_property("baseline_statistics_uri", baseline.uri)
        if serving is not None and serving_split is not None:
            output.set_custom_property("serving_statistics_uri", serving.uri)
            output.set_custom_property("serving_split_name", serving_split)
        if fail_on_anomalies and not all(r.blessed for r in reports):
            raise AnomaliesFoundError(reports)
