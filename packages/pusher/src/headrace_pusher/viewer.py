"""``headrace show`` for PushedModel: whether the model was pushed, where, as which version."""

from __future__ import annotations

import os

from headrace_core import Artifact
from headrace_core.show import ArtifactSummary

__all__ = ["summarize"]


def summarize(artifact: Artifact) -> ArtifactSummary:
    pushed = artifact.get_custom_property("pushed")
    destination = artifact.get_custom_property("pushed_destination")
    version = artifact.get_custom_property("pushed_version")
    lines = [f"PushedModel #{artifact.id} at {artifact.uri}"]
    exists: bool | None = None
    if pushed == 1:
        lines.append("pushed: yes")
        if isinstance(destination, str) and destination:
            exists = os.path.isdir(destination)
            lines.append(f"destination: {destination}" + ("" if exists else " (no longer there)"))
        if version is not None:
            lines.append(f"version: {version}")
    elif pushed == 0:
        lines.append("pushed: no (the model was not blessed)")
    else:
        lines.append("pushed: unknown (no 'pushed' custom property)")
    if pushed == 1:
        # Not every producer of a PushedModel records a version; never print "None".
        headline = (
            f"pushed version {version} to {destination}"
            if version is not None
            else f"pushed to {destination}"
        )
    elif pushed == 0:
        headline = "not pushed: the model was not blessed"
    else:
        headline = ""
    return ArtifactSummary(
        "\n".join(lines),
        None,
        headline=headline,
        data={
            "pushed": pushed,
            "destination": destination,
            "version": version,
            "destination_exists": exists,
        },
    )
