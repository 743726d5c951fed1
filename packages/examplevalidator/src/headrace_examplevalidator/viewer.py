"""``headrace show`` for ExampleAnomalies: per split, each anomalous feature with severity,
short and long description, and the drift and skew measurements with what they compared
against. Reads the protos with tensorflow-metadata only (no TFDV)."""

from __future__ import annotations

import os

from headrace_core import Artifact
from headrace_core.artifacts import decode_split_names
from headrace_core.show import ArtifactSummary
from headrace_examplevalidator.report import (
    ANOMALIES_FILE,
    HTML_FILE,
    SplitReport,
    read_split_report,
    render_text,
)

__all__ = ["summarize"]


def _splits(artifact: Artifact) -> list[str]:
    encoded = artifact.properties.get("split_names")
    names = decode_split_names(encoded if isinstance(encoded, str) else None)
    if names or not os.path.isdir(artifact.uri):
        return names
    return sorted(n[len("Split-") :] for n in os.listdir(artifact.uri) if n.startswith("Split-"))


def _compared_with(artifact: Artifact) -> dict[str, str]:
    """The statistics the drift and skew measurements were taken against, as the executor
    recorded them: a skew of 0.03 means little without knowing which serving data."""
    found = {}
    baseline = artifact.get_custom_property("baseline_statistics_uri")
    if baseline:
        found["drift"] = f"baseline statistics {baseline}"
    serving = artifact.get_custom_property("serving_statistics_uri")
    if serving:
        split = artifact.get_custom_property("serving_split_name")
        found["skew"] = f"serving statistics {serving}" + (f", split '{split}'" if split else "")
    return found


def summarize(artifact: Artifact) -> ArtifactSummary:
    span = artifact.properties.get("span")
    title = f"ExampleAnomalies #{artifact.id} at {artifact.uri}" + (
        f" (span {span})" if span is not None else ""
    )
    reports: list[SplitReport] = []
    lines: list[str] = []
    for split in _splits(artifact):
        path = os.path.join(artifact.uri, f"Split-{split}", ANOMALIES_FILE)
        if not os.path.isfile(path):
            lines.append(f"split '{split}': no {ANOMALIES_FILE}")
            continue
        reports.append(read_split_report(artifact.uri, split))
    compared = _compared_with(artifact)
    if compared:
        title += "".join(f"\n{kind} against {what}" for kind, what in compared.items())
    text = render_text(reports, title).rstrip("\n")
    if lines:
        text += "\n" + "\n".join(lines)
    if not reports and not lines:
        text += "\nno splits"
    html_path = os.path.join(artifact.uri, HTML_FILE)
    blessed = artifact.get_custom_property("blessed")
    return ArtifactSummary(
        text,
        html_path if os.path.isfile(html_path) else None,
        {
            "blessed": blessed if blessed is not None else int(all(r.blessed for r in reports)),
            "splits": {r.split: r.to_json() for r in reports},
            **({"compared_with": compared} if compared else {}),
        },
    )
