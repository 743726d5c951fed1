"""The ``headrace show`` viewer: per split, feature, severity, short and long description."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hrev_util import run_validator

from headrace_core import ExampleAnomalies, ExampleStatistics, Schema
from headrace_core.plugins import get_plugin_manager
from headrace_examplevalidator.report import render_html, split_report
from headrace_examplevalidator.viewer import summarize

MakeStats = Callable[..., ExampleStatistics]
MakeSchema = Callable[[Any], Schema]


@pytest.fixture
def anomalous(
    tmp_path: Path,
    tfdv: Any,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_frames: dict[str, Any],
    penguin_stats: dict[str, Any],
    penguin_skewed_stats: Any,
    penguin_schema: Any,
) -> ExampleAnomalies:
    """train: clean; eval: body_mass_g dropped; skewed: culmen_length_mm below its domain."""
    schema = type(penguin_schema)()
    schema.CopyFrom(penguin_schema)
    domain = tfdv.get_feature(schema, "culmen_length_mm").float_domain
    domain.min, domain.max = 0.0, 1.0
    eval_frame = penguin_frames["eval"].drop(columns=["body_mass_g"])
    stats = stats_dir(
        {
            "train": penguin_stats["train"],
            "eval": tfdv.generate_statistics_from_dataframe(eval_frame),
            "skewed": penguin_skewed_stats,
        },
        span=7,
    )
    out = run_validator(tmp_path / "anomalies", stats, schema_dir(schema))
    out.id = 42
    return out


def test_viewer_text_per_split(anomalous: ExampleAnomalies) -> None:
    summary = summarize(anomalous)
    assert summary.text.splitlines() == [
        f"ExampleAnomalies #42 at {anomalous.uri} (span 7)",
        "split 'train': no anomalies",
        "split 'eval': 1 anomaly",
        "  body_mass_g [ERROR] Column dropped",
        "      Column is completely missing",
        "split 'skewed': 1 anomaly",
        "  culmen_length_mm [ERROR] Out-of-range values",
        "      Unexpectedly low values: -1<0(upto six significant digits)",
    ]
    assert summary.html_path == str(Path(anomalous.uri) / "anomalies.html")
    assert summary.data["blessed"] == 0
    assert list(summary.data["splits"]) == ["train", "eval", "skewed"]
    [row] = summary.data["splits"]["eval"]["anomalies"]
    assert row["feature"] == "body_mass_g"
    assert row["severity"] == "ERROR"
    assert row["reasons"] == [
        {
            "type": "SCHEMA_MISSING_COLUMN",
            "short_description": "Column dropped",
            "description": "Column is completely missing",
        }
    ]
    json.dumps(summary.data)


def test_html_is_self_contained_and_escaped(anomalous: ExampleAnomalies) -> None:
    pages = [Path(anomalous.uri) / "anomalies.html"] + [
        Path(anomalous.uri) / f"Split-{s}" / "anomalies.html" for s in ("train", "eval", "skewed")
    ]
    for page in pages:
        text = page.read_text()
        assert text.startswith("<!DOCTYPE html>")
        assert not re.search(r"https?://|<script|<link|<img|<iframe|src=|url\(", text), page
    combined = pages[0].read_text()
    assert combined.count("<h2>Split ") == 3
    assert "No anomalies." in combined
    assert "<td>body_mass_g</td>" in combined
    # TFDV's descriptions contain '<': escaped, so the page stays well formed.
    assert "-1&lt;0" in combined
    assert "-1<0" not in combined


def test_viewer_reads_a_tfx_artifact_without_reports(
    anomalous: ExampleAnomalies, tmp_path: Path
) -> None:
    # What TFX's ExampleValidator leaves: SchemaDiff.pb per split and no custom properties.
    tfx_uri = tmp_path / "tfx"
    for split in ("train", "eval"):
        (tfx_uri / f"Split-{split}").mkdir(parents=True)
        data = (Path(anomalous.uri) / f"Split-{split}" / "SchemaDiff.pb").read_bytes()
        (tfx_uri / f"Split-{split}" / "SchemaDiff.pb").write_bytes(data)
    artifact = ExampleAnomalies(str(tfx_uri), id=5, properties={"split_names": '["train", "eval"]'})
    summary = summarize(artifact)
    assert summary.html_path is None
    assert summary.data["blessed"] == 0
    assert "split 'eval': 1 anomaly" in summary.text.splitlines()
    # Without split_names the Split-* folders are listed.
    summary = summarize(ExampleAnomalies(str(tfx_uri), id=5))
    assert [line for line in summary.text.splitlines() if line.startswith("split")] == [
        "split 'eval': 1 anomaly",
        "split 'train': no anomalies",
    ]


def test_viewer_names_a_split_without_its_file(tmp_path: Path) -> None:
    (tmp_path / "Split-train").mkdir()
    artifact = ExampleAnomalies(str(tmp_path), id=1, properties={"split_names": '["train"]'})
    assert "split 'train': no SchemaDiff.pb" in summarize(artifact).text


def test_viewer_is_registered_for_example_anomalies() -> None:
    manager = get_plugin_manager()
    entry = manager.viewers.entry("ExampleAnomalies")
    assert entry.value.viewer == "headrace_examplevalidator.viewer:summarize"
    assert entry.provenance.distribution == "headrace-examplevalidator"


def test_viewer_imports_no_tensorflow(anomalous: ExampleAnomalies) -> None:
    script = f"""
import json, sys
from headrace_core import ExampleAnomalies
from headrace_examplevalidator.viewer import summarize
document = json.loads({json.dumps(json.dumps(anomalous.to_json_dict()))})
artifact = ExampleAnomalies.from_json_dict(document)
summary = summarize(artifact)
assert "body_mass_g" in summary.text
heavy = ("tensorflow", "tensorflow_data_validation", "apache_beam", "tfx_bsl", "pandas")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_render_html_of_drift_measurements() -> None:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    proto = anomalies_pb2.Anomalies()
    info = proto.drift_skew_info.add()
    info.path.step.append("f<1>")
    m = info.drift_measurements.add()
    m.type = anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY
    m.value, m.threshold = 0.5, 0.1
    report = split_report("s", proto)
    assert report.blessed  # a measurement alone is not an anomaly; TFDV adds one above threshold
    page = render_html([report], "t")
    assert "<td>f&lt;1&gt;</td><td>drift</td><td>L_INFTY</td>" in page
    assert '<td class="num bad">0.5</td><td class="num">0.1</td>' in page


def test_data_missing_is_not_blessed() -> None:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    report = split_report("train", anomalies_pb2.Anomalies(data_missing=True))
    assert not report.blessed
    assert report.features == ["(dataset)"]
