"""Readable anomaly reports: from TFDV's ``Anomalies`` proto to text and self-contained HTML.

Shared by the executor (which writes ``anomalies.txt`` and ``anomalies.html`` beside each
``SchemaDiff.pb``) and the ``headrace show`` viewer. Only protobuf and tensorflow-metadata are
used, and only when a proto is parsed: this module never imports TensorFlow or TFDV. The HTML
page is ``templates/anomalies.html`` on the core's base page (:mod:`headrace_core.views`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headrace_core.views import render_view

__all__ = [
    "ANOMALIES_FILE",
    "DATASET",
    "HTML_FILE",
    "TEXT_FILE",
    "FeatureAnomaly",
    "Measurement",
    "Reason",
    "SplitReport",
    "read_anomalies",
    "read_split_report",
    "render_html",
    "render_text",
    "split_report",
]

#: TFX's file name for the serialized ``tensorflow_metadata`` Anomalies proto of one split.
ANOMALIES_FILE = "SchemaDiff.pb"
TEXT_FILE = "anomalies.txt"
HTML_FILE = "anomalies.html"
#: The "feature" name under which dataset-level anomalies are reported.
DATASET = "(dataset)"


@dataclass(frozen=True)
class Reason:
    type: str
    short_description: str
    description: str


@dataclass(frozen=True)
class FeatureAnomaly:
    """One entry of ``Anomalies.anomaly_info`` (or a dataset-level anomaly)."""

    feature: str
    severity: str
    short_description: str
    description: str
    reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "severity": self.severity,
            "short_description": self.short_description,
            "description": self.description,
            "reasons": [dataclasses.asdict(r) for r in self.reasons],
        }


@dataclass(frozen=True)
class Measurement:
    """A drift or skew measurement from ``Anomalies.drift_skew_info``."""

    feature: str
    kind: str  # "drift" or "skew"
    type: str
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        return self.value > self.threshold

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "exceeded": self.exceeded}


@dataclass(frozen=True)
class SplitReport:
    split: str
    anomalies: tuple[FeatureAnomaly, ...] = ()
    measurements: tuple[Measurement, ...] = ()

    @property
    def blessed(self) -> bool:
        return not self.anomalies

    @property
    def features(self) -> list[str]:
        return [a.feature for a in self.anomalies]

    def to_json(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "blessed": self.blessed,
            "anomalies": [a.to_json() for a in self.anomalies],
            "measurements": [m.to_json() for m in self.measurements],
        }


def _path_name(path: Any, fallback: str) -> str:
    steps = list(getattr(path, "step", []))
    return ".".join(steps) if steps else fallback


def _anomaly(feature: str, info: Any) -> FeatureAnomaly:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    reason_type = anomalies_pb2.AnomalyInfo.Type
    return FeatureAnomaly(
        feature=feature,
        severity=anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
        short_description=info.short_description,
        description=info.description,
        reasons=tuple(
            Reason(reason_type.Name(r.type), r.short_description, r.description)
            for r in info.reason
        ),
    )


def split_report(split: str, anomalies: Any) -> SplitReport:
    """The report of one split, from its ``tensorflow_metadata`` Anomalies proto.

    A split is clean when the proto has no feature anomaly, no dataset anomaly and does not
    flag the data as missing (statistics without a single example).
    """
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found: list[FeatureAnomaly] = []
    if anomalies.data_missing:
        found.append(
            FeatureAnomaly(
                DATASET,
                "ERROR",
                "No data",
                "The statistics of this split hold no examples.",
            )
        )
    if anomalies.HasField("dataset_anomaly_info"):
        found.append(_anomaly(DATASET, anomalies.dataset_anomaly_info))
    for key in sorted(anomalies.anomaly_info):
        info = anomalies.anomaly_info[key]
        found.append(_anomaly(_path_name(info.path, key), info))
    measure_type = anomalies_pb2.DriftSkewInfo.Measurement.Type
    measurements: list[Measurement] = []
    for info in anomalies.drift_skew_info:
        feature = _path_name(info.path, "?")
        for kind, entries in (("drift", info.drift_measurements), ("skew", info.skew_measurements)):
            measurements.extend(
                Measurement(feature, kind, measure_type.Name(m.type), m.value, m.threshold)
                for m in entries
            )
    measurements.sort(key=lambda m: (m.feature, m.kind, m.type))
    return SplitReport(split, tuple(found), tuple(measurements))


def read_anomalies(path: str) -> Any:
    """Parse a ``SchemaDiff.pb`` file; the error names the file if it is not an Anomalies proto."""
    from google.protobuf.message import DecodeError
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    with open(path, "rb") as f:
        data = f.read()
    try:
        return anomalies_pb2.Anomalies.FromString(data)
    except DecodeError as e:
        raise ValueError(f"{path} is not a serialized tensorflow_metadata Anomalies: {e}") from e


def read_split_report(uri: str, split: str) -> SplitReport:
    return split_report(split, read_anomalies(os.path.join(uri, f"Split-{split}", ANOMALIES_FILE)))


# Rendering ---------------------------------------------------------------------------------


def _status_line(report: SplitReport) -> str:
    if report.blessed:
        return f"split '{report.split}': no anomalies"
    count = len(report.anomalies)
    return f"split '{report.split}': {count} {'anomaly' if count == 1 else 'anomalies'}"


def render_text(reports: Iterable[SplitReport], title: str = "") -> str:
    """Plain text: per split, each anomalous feature with severity, short and long description,
    then the drift/skew measurements, if any."""
    lines = [title] if title else []
    for report in reports:
        lines.append(_status_line(report))
        for a in report.anomalies:
            lines.append(f"  {a.feature} [{a.severity}] {a.short_description}")
            if len(a.reasons) > 1:
                lines.extend(f"      - {r.short_description}: {r.description}" for r in a.reasons)
            else:
                lines.append(f"      {a.description}")
        if report.measurements:
            lines.append("  drift/skew measurements:")
            for m in report.measurements:
                flag = "  ABOVE THRESHOLD" if m.exceeded else ""
                lines.append(
                    f"    {m.feature}: {m.kind} {m.type} = {m.value:.6g} "
                    f"(threshold {m.threshold:.6g}){flag}"
                )
    return "\n".join(lines) + "\n"


def render_html(reports: Sequence[SplitReport], title: str) -> str:
    """One self-contained page (inline CSS, no scripts, no external resources)."""
    splits = [
        {
            "split": r.split,
            "blessed": r.blessed,
            "status": _status_line(r).split(": ", 1)[1],
            "anomalies": r.anomalies,
            "measurements": r.measurements,
        }
        for r in reports
    ]
    return render_view("headrace_examplevalidator", "anomalies.html", title=title, reports=splits)
