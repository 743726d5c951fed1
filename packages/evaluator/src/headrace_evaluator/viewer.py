"""``headrace show`` for ModelEvaluation and ModelBlessing: the metrics per slice, the verdict
and every failed validation (metric, slice, value, threshold).

Reads the Evaluator's own JSON files only (no TensorFlow, no TFMA), so it answers at once.
Artifacts made by TFX's Evaluator, without those files, are summarised from what they hold.
"""

from __future__ import annotations

import os

from headrace_core import Artifact
from headrace_core.show import ArtifactSummary
from headrace_evaluator.report import (
    BLESSED_FILE,
    METRICS_HTML,
    METRICS_JSON,
    NOT_BLESSED_FILE,
    VALIDATION_JSON,
    blessing_headline,
    evaluation_headline,
    read_json,
    render_blessing_text,
    render_evaluation_text,
)

__all__ = ["summarize_blessing", "summarize_evaluation"]


def _title(artifact: Artifact) -> str:
    return f"{artifact.type_name} #{artifact.id} at {artifact.uri}"


def summarize_evaluation(artifact: Artifact) -> ArtifactSummary:
    path = os.path.join(artifact.uri, METRICS_JSON)
    html_path = os.path.join(artifact.uri, METRICS_HTML)
    if not os.path.isfile(path):
        files = sorted(os.listdir(artifact.uri)) if os.path.isdir(artifact.uri) else []
        text = (
            f"{_title(artifact)}\nno {METRICS_JSON} (not written by headrace-evaluator); "
            f"tfma.load_eval_result({artifact.uri!r}) reads TFMA's files"
            + (f": {', '.join(files)}" if files else "")
        )
        return ArtifactSummary(text, None, {"files": files})
    document = read_json(path)
    text = f"{_title(artifact)}\n{render_evaluation_text(document)}"
    return ArtifactSummary(
        text,
        html_path if os.path.isfile(html_path) else None,
        dict(document),
        headline=evaluation_headline(document),
    )


def summarize_blessing(artifact: Artifact) -> ArtifactSummary:
    if os.path.isfile(os.path.join(artifact.uri, BLESSED_FILE)):
        marker = BLESSED_FILE
    elif os.path.isfile(os.path.join(artifact.uri, NOT_BLESSED_FILE)):
        marker = NOT_BLESSED_FILE
    else:
        marker = None
    blessed = artifact.get_custom_property("blessed")
    if blessed is None and marker is not None:
        blessed = int(marker == BLESSED_FILE)
    path = os.path.join(artifact.uri, VALIDATION_JSON)
    if os.path.isfile(path):
        validation = read_json(path)
        text = f"{_title(artifact)}: {marker or 'no marker file'}\n"
        text += render_blessing_text(validation)
        # The recorded property wins over the file: it is what a Cond reads.
        data = {**validation, "blessed": blessed}
        return ArtifactSummary(text, None, data, headline=blessing_headline(data))
    lines = [f"{_title(artifact)}: {marker or f'no {BLESSED_FILE} or {NOT_BLESSED_FILE} file'}"]
    props = artifact.custom_properties
    for key in ("current_model", "current_model_id", "baseline_model", "baseline_model_id"):
        if key in props:
            lines.append(f"{key}: {props[key]}")
    return ArtifactSummary("\n".join(lines), None, {"blessed": blessed})
