"""MLMD values and protos to and from headrace's artifacts."""

from __future__ import annotations

from typing import Any

from headrace_core.artifacts import Artifact, ArtifactState, PropertyType

__all__ = [
    "artifact_from_proto",
    "artifact_to_proto",
    "custom",
    "event_paths",
    "get_value",
    "set_value",
]


def set_value(value_proto: Any, value: Any) -> None:
    """Set an MLMD ``Value`` from a Python int, float, str or bool."""
    if isinstance(value, bool):
        value_proto.int_value = int(value)
    elif isinstance(value, int):
        value_proto.int_value = value
    elif isinstance(value, float):
        value_proto.double_value = value
    else:
        value_proto.string_value = str(value)


def get_value(value_proto: Any) -> Any:
    kind = value_proto.WhichOneof("value")
    if kind == "int_value":
        return value_proto.int_value
    if kind == "double_value":
        return value_proto.double_value
    if kind == "string_value":
        return value_proto.string_value
    if kind == "bool_value":
        return int(value_proto.bool_value)
    return None


def event_paths(event: Any) -> list[tuple[str, int]]:
    """The (key, index) places an event links its artifact to: usually one."""
    steps = list(event.path.steps)
    return [
        (steps[i].key, steps[i + 1].index if i + 1 < len(steps) else 0)
        for i in range(0, len(steps), 2)
    ]


def custom(proto: Any, key: str, default: Any = None) -> Any:
    if key in proto.custom_properties:
        return get_value(proto.custom_properties[key])
    return default


_STATE_TO_PB = {
    ArtifactState.UNKNOWN: 0,
    ArtifactState.PENDING: 1,
    ArtifactState.LIVE: 2,
    ArtifactState.MARKED_FOR_DELETION: 3,
    ArtifactState.DELETED: 4,
    ArtifactState.ABANDONED: 5,
    ArtifactState.REFERENCE: 6,
}
_PB_TO_STATE = {v: k for k, v in _STATE_TO_PB.items()}


def artifact_to_proto(artifact: Artifact, type_id: int) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    proto = pb.Artifact(type_id=type_id, uri=artifact.uri, state=_STATE_TO_PB[artifact.state])
    if artifact.id is not None:
        proto.id = artifact.id
    for key, value in artifact.properties.items():
        set_value(proto.properties[key], value)
    for key, value in artifact.custom_properties.items():
        set_value(proto.custom_properties[key], value)
    return proto


def artifact_from_proto(proto: Any, cls: type[Artifact]) -> Artifact:
    declared = cls.PROPERTIES
    props: dict[str, Any] = {}
    for key, value in proto.properties.items():
        v = get_value(value)
        if key in declared and v is not None:
            props[key] = float(v) if declared[key] is PropertyType.DOUBLE else v
    customs = {k: get_value(v) for k, v in proto.custom_properties.items()}
    artifact = cls(
        proto.uri,
        id=proto.id,
        state=_PB_TO_STATE.get(proto.state, ArtifactState.UNKNOWN),
        properties=props,
        custom_properties={k: v for k, v in customs.items() if v is not None},
    )
    return artifact
