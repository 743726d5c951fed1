"""``headrace show``: a readable summary of one artifact, from the plugin that knows its type.

A viewer is ``"module:function"`` registered with ``headrace_register_viewers``; it takes the
artifact and returns an :class:`ArtifactSummary`. Viewers should read files with light
libraries (protobuf, tensorflow-metadata) rather than TensorFlow, so ``show`` stays quick.
Types without a viewer get a generic summary: properties and the files under the URI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from headrace_core.artifacts import Artifact

__all__ = ["ArtifactSummary", "artifact_from_store", "generic_summary", "summarize"]


@dataclass
class ArtifactSummary:
    #: Plain text for the terminal.
    text: str
    #: A self-contained HTML view to open in a browser, if there is one.
    html_path: str | None = None
    #: The same facts as data, for ``--json``.
    data: dict[str, Any] = field(default_factory=dict)
    #: One line for the end of ``headrace run`` (viewers registered with ``run_summary``).
    headline: str = ""


def generic_summary(artifact: Artifact, max_files: int = 20) -> ArtifactSummary:
    lines = [f"{artifact.type_name} #{artifact.id} at {artifact.uri}"]
    for key, value in sorted(artifact.properties.items()):
        lines.append(f"  {key}: {value}")
    for key, value in sorted(artifact.custom_properties.items()):
        lines.append(f"  {key}: {value} (custom)")
    files: list[str] = []
    if os.path.isdir(artifact.uri):
        for directory, dirs, names in os.walk(artifact.uri):
            dirs.sort()
            for name in sorted(names):
                files.append(os.path.relpath(os.path.join(directory, name), artifact.uri))
    if files:
        lines.append(f"  files ({len(files)}):")
        lines.extend(f"    {f}" for f in files[:max_files])
        if len(files) > max_files:
            lines.append(f"    ... and {len(files) - max_files} more")
    return ArtifactSummary("\n".join(lines), None, {"files": files})


def artifact_from_store(store: Any, proto: Any) -> Artifact:
    """An MLMD artifact as an instance of its registered class (or a generic stand-in)."""
    from headrace_core.metadata import artifact_from_proto
    from headrace_core.plugins import get_plugin_manager

    type_name = store.artifact_type_name(proto.type_id)
    registry = get_plugin_manager().artifact_types
    if type_name in registry:
        cls = registry.get(type_name)
    else:
        cls = type(type_name, (Artifact,), {"TYPE_NAME": type_name, "__module__": __name__})
    return artifact_from_proto(proto, cls)


def summarize(store: Any, proto: Any) -> tuple[Artifact, ArtifactSummary]:
    """The artifact and its summary by the viewer registered for its type (else the generic
    one): what ``headrace show`` prints. A failing viewer is a ``HeadraceError`` naming it."""
    from headrace_core.errors import HeadraceError
    from headrace_core.executor import import_ref
    from headrace_core.plugins import get_plugin_manager

    type_name = store.artifact_type_name(proto.type_id)
    artifact = artifact_from_store(store, proto)
    viewers = get_plugin_manager().viewers
    if type_name not in viewers:
        return artifact, generic_summary(artifact)
    ref = viewers.get(type_name).viewer
    try:
        summary: ArtifactSummary = import_ref(ref)(artifact)
    except Exception as e:
        raise HeadraceError(f"viewer {ref} for {type_name} failed: {e}") from e
    return artifact, summary
