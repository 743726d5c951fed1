"""``headrace show`` for ExampleStatistics: a per-split, per-feature table and the HTML view.

Reads ``Split-<name>/FeatureStats.pb`` with tensorflow-metadata's protos only; never imports
TFDV or TensorFlow, so it answers in well under a second.
"""

from __future__ import annotations

import os

from headrace_core import Artifact
from headrace_core.artifacts import decode_split_names, split_uri
from headrace_core.show import ArtifactSummary
from headrace_statisticsgen.render import (
    HTML_FILE_NAME,
    STATS_FILE_NAME,
    feature_summaries,
    load_statistics,
    render_text,
)

__all__ = ["summarize"]


def _splits(artifact: Artifact) -> list[str]:
    encoded = artifact.get_property("split_names")
    names = decode_split_names(encoded if isinstance(encoded, str) else None)
    if names:
        return names
    # Artifacts recorded without split_names: whatever Split-* folders hold statistics.
    if not os.path.isdir(artifact.uri):
        return []
    return [
        entry[len("Split-") :]
        for entry in sorted(os.listdir(artifact.uri))
        if entry.startswith("Split-")
        and os.path.isfile(os.path.join(artifact.uri, entry, STATS_FILE_NAME))
    ]


def summarize(artifact: Artifact) -> ArtifactSummary:
    splits = _splits(artifact)
    header = f"{artifact.type_name} #{artifact.id} at {artifact.uri}"
    span = artifact.properties.get("span")
    if span is not None:
        header += f" (span {span})"
    loaded = []
    missing = []
    for split in splits:
        path = os.path.join(split_uri(artifact, split), STATS_FILE_NAME)
        if os.path.isfile(path):
            loaded.append((split, load_statistics(path)))
        else:
            missing.append(split)
    lines = [header, ""]
    if loaded:
        lines.append(render_text(loaded))
    for split in missing:
        lines.append(f"Split {split}: no {STATS_FILE_NAME}")
    if not splits:
        lines.append("no splits recorded and no Split-*/FeatureStats.pb found")

    html_path: str | None = os.path.join(artifact.uri, HTML_FILE_NAME)
    if not os.path.isfile(html_path or ""):
        per_split = [os.path.join(split_uri(artifact, s), HTML_FILE_NAME) for s, _ in loaded]
        html_path = next((p for p in per_split if os.path.isfile(p)), None)
    data = {
        "splits": {
            split: {
                "num_examples": int(stats.datasets[0].num_examples) if stats.datasets else 0,
                "features": [s.to_json() for d in stats.datasets[:1] for s in feature_summaries(d)],
            }
            for split, stats in loaded
        }
    }
    return ArtifactSummary("\n".join(lines).rstrip(), html_path, data)
