"""``headrace show`` for ExamplesDiff: per split pair, how examples paired up and which
features differ, from ``summary.json`` (plain JSON: no TensorFlow, no TFDV)."""

from __future__ import annotations

import os
from typing import Any

from headrace_core import Artifact
from headrace_core.show import ArtifactSummary
from headrace_examplediff.summary import SUMMARY_FILE, read_summary, render_text

__all__ = ["summarize"]


def _headline(document: dict[str, Any]) -> str:
    parts = []
    for pair in document.get("split_pairs", []):
        differing = pair["differing_features"]
        pairs = pair["match_stats"]["matching_pairs"]
        parts.append(
            f"{pair['name']}: {pairs} pairs share an identifier, "
            + (f"{len(differing)} features differ" if differing else "no feature differs")
        )
    return "; ".join(parts)


def _without_summary(artifact: Artifact, title: str) -> ArtifactSummary:
    """An artifact TFX wrote: its split pairs and files, since the records need TFDV."""
    lines = [title, f"  no {SUMMARY_FILE} (written by TFX?): the TFDV records only"]
    pairs = []
    if os.path.isdir(artifact.uri):
        for name in sorted(os.listdir(artifact.uri)):
            path = os.path.join(artifact.uri, name)
            if name.startswith("SplitPair-") and os.path.isdir(path):
                files = sorted(os.listdir(path))
                pairs.append({"name": name[len("SplitPair-") :], "files": files})
                lines.append(f"split pair {pairs[-1]['name']}: {', '.join(files) or 'no files'}")
    if not pairs:
        lines.append("  no split pairs")
    return ArtifactSummary("\n".join(lines), None, {"split_pairs": pairs})


def summarize(artifact: Artifact) -> ArtifactSummary:
    title = f"ExamplesDiff #{artifact.id} at {artifact.uri}"
    document = read_summary(artifact.uri)
    if document is None:
        return _without_summary(artifact, title)
    return ArtifactSummary(render_text(document, title), None, document, _headline(document))
