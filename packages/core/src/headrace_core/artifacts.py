"""Artifacts: typed, versioned data that components produce and consume.

An artifact is a directory (its ``uri``) plus metadata recorded in ML Metadata: a type name,
typed properties declared by the type, free-form custom properties and a state. The standard
types keep TFX's names and properties so TFX executors and module files feel at home.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "BLESSED_KEY",
    "Artifact",
    "ArtifactState",
    "Boolean",
    "Bytes",
    "ExampleAnomalies",
    "ExampleStatistics",
    "Examples",
    "ExamplesDiff",
    "Float",
    "HyperParameters",
    "InferenceResult",
    "InfraBlessing",
    "Integer",
    "JsonValue",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "PropertyType",
    "PushedModel",
    "SERVING_MODEL_DIR",
    "STANDARD_ARTIFACT_TYPES",
    "Schema",
    "String",
    "TransformCache",
    "TransformGraph",
    "TunerResults",
    "ValueArtifact",
    "decode_split_names",
    "encode_split_names",
    "is_blessed",
    "serving_model_path",
    "split_uri",
]

PropertyValue = int | float | str


class PropertyType(enum.StrEnum):
    """The value types ML Metadata stores for artifact properties."""

    INT = "INT"
    DOUBLE = "DOUBLE"
    STRING = "STRING"

    def check(self, value: object) -> bool:
        if self is PropertyType.INT:
            return isinstance(value, int) and not isinstance(value, bool)
        if self is PropertyType.DOUBLE:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return isinstance(value, str)


class ArtifactState(enum.StrEnum):
    """ML Metadata's artifact states. Only LIVE artifacts are visible to consumers."""

    UNKNOWN = "UNKNOWN"
    PENDING = "PENDING"
    LIVE = "LIVE"
    MARKED_FOR_DELETION = "MARKED_FOR_DELETION"
    DELETED = "DELETED"
    ABANDONED = "ABANDONED"
    REFERENCE = "REFERENCE"


class Artifact:
    """Base of every artifact type.

    Subclasses set ``TYPE_NAME`` and may declare ``PROPERTIES``; declared properties read and
    write as attributes (``examples.span``) and are type-checked on assignment.
    """

    TYPE_NAME: ClassVar[str] = ""
    PROPERTIES: ClassVar[Mapping[str, PropertyType]] = {}

    __slots__ = ("_custom_properties", "_properties", "id", "name", "state", "uri")

    def __init__(
        self,
        uri: str = "",
        *,
        id: int | None = None,  # noqa: A002 - TFX's name for the MLMD id
        name: str = "",
        state: ArtifactState = ArtifactState.PENDING,
        properties: Mapping[str, PropertyValue] | None = None,
        custom_properties: Mapping[str, PropertyValue] | None = None,
    ) -> None:
        if not type(self).TYPE_NAME:
            raise TypeError(
                f"{type(self).__qualname__} has no TYPE_NAME; it cannot be instantiated"
            )
        self.id = id
        self.uri = uri
        self.name = name
        self.state = ArtifactState(state)
        self._properties: dict[str, PropertyValue] = {}
        self._custom_properties: dict[str, PropertyValue] = {}
        for key, value in (properties or {}).items():
            self.set_property(key, value)
        for key, value in (custom_properties or {}).items():
            self.set_custom_property(key, value)

    @property
    def type_name(self) -> str:
        return type(self).TYPE_NAME

    # Declared properties -------------------------------------------------------------------

    def set_property(self, key: str, value: PropertyValue) -> None:
        declared = type(self).PROPERTIES.get(key)
        if declared is None:
            raise AttributeError(
                f"artifact type {self.type_name!r} has no property {key!r} "
                f"(declared: {', '.join(sorted(type(self).PROPERTIES)) or 'none'}); "
                "use set_custom_property for free-form values"
            )
        if not declared.check(value):
            raise TypeError(
                f"property {key!r} of artifact type {self.type_name!r} is {declared.value}, "
                f"got {type(value).__name__} {value!r}"
            )
        self._properties[key] = float(value) if declared is PropertyType.DOUBLE else value

    def get_property(self, key: str) -> PropertyValue | None:
        if key not in type(self).PROPERTIES:
            raise AttributeError(f"artifact type {self.type_name!r} has no property {key!r}")
        return self._properties.get(key)

    @property
    def properties(self) -> dict[str, PropertyValue]:
        return dict(self._properties)

    def __getattr__(self, key: str) -> Any:
        # Only reached when normal lookup fails: expose declared properties as attributes.
        if key in type(self).PROPERTIES:
            return self._properties.get(key)
        raise AttributeError(f"{type(self).__name__!r} artifact has no attribute {key!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        if key in type(self).PROPERTIES:
            self.set_property(key, value)
        else:
            object.__setattr__(self, key, value)

    # Custom properties ---------------------------------------------------------------------

    def set_custom_property(self, key: str, value: PropertyValue | bool) -> None:
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float, str)):
            raise TypeError(
                f"custom property {key!r} must be int, float or str, got {type(value).__name__}"
            )
        self._custom_properties[key] = value

    def get_custom_property(self, key: str) -> PropertyValue | None:
        return self._custom_properties.get(key)

    def has_custom_property(self, key: str) -> bool:
        return key in self._custom_properties

    # TFX spellings, so executors ported from TFX keep working.
    def set_int_custom_property(self, key: str, value: int) -> None:
        self.set_custom_property(key, int(value))

    def set_float_custom_property(self, key: str, value: float) -> None:
        self.set_custom_property(key, float(value))

    def set_string_custom_property(self, key: str, value: str) -> None:
        self.set_custom_property(key, str(value))

    def get_int_custom_property(self, key: str) -> int:
        value = self._custom_properties.get(key, 0)
        return int(value)

    def get_float_custom_property(self, key: str) -> float:
        value = self._custom_properties.get(key, 0.0)
        return float(value)

    def get_string_custom_property(self, key: str) -> str:
        value = self._custom_properties.get(key, "")
        return str(value)

    @property
    def custom_properties(self) -> dict[str, PropertyValue]:
        return dict(self._custom_properties)

    # Serialization -------------------------------------------------------------------------

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "id": self.id,
            "uri": self.uri,
            "name": self.name,
            "state": self.state.value,
            "properties": dict(sorted(self._properties.items())),
            "custom_properties": dict(sorted(self._custom_properties.items())),
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Artifact:
        if data.get("type") not in (None, cls.TYPE_NAME):
            raise ValueError(f"cannot read a {data.get('type')!r} artifact as {cls.TYPE_NAME!r}")
        return cls(
            data.get("uri", ""),
            id=data.get("id"),
            name=data.get("name", ""),
            state=ArtifactState(data.get("state", "PENDING")),
            properties=data.get("properties") or {},
            custom_properties=data.get("custom_properties") or {},
        )

    def __repr__(self) -> str:
        props = ", ".join(f"{k}={v!r}" for k, v in sorted(self._properties.items()))
        return (
            f"{type(self).__name__}(id={self.id!r}, uri={self.uri!r}, state={self.state.value}"
            + (f", {props}" if props else "")
            + ")"
        )


def encode_split_names(splits: Sequence[str]) -> str:
    """TFX's encoding of ``split_names``: a JSON list in a string property."""
    return json.dumps(list(splits))


def decode_split_names(encoded: str | None) -> list[str]:
    if not encoded:
        return []
    names = json.loads(encoded)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"split_names must be a JSON list of strings, got {encoded!r}")
    return names


#: Where a Model artifact holds its SavedModel, inside its uri (TFX's layout).
SERVING_MODEL_DIR = "Format-Serving"


def serving_model_path(model: Artifact) -> str:
    """The SavedModel directory of a Model artifact: ``<uri>/Format-Serving``. The Trainer
    writes there and the Evaluator and Pusher read there, so they agree on one model."""
    return os.path.join(model.uri, SERVING_MODEL_DIR)


def split_uri(artifact: Artifact, split: str) -> str:
    """Where split ``split`` of a split artifact lives: ``<uri>/Split-<split>``."""
    return os.path.join(artifact.uri, f"Split-{split}")


class Examples(Artifact):
    TYPE_NAME = "Examples"
    PROPERTIES = {
        "span": PropertyType.INT,
        "version": PropertyType.INT,
        "split_names": PropertyType.STRING,
    }


class ExampleStatistics(Artifact):
    TYPE_NAME = "ExampleStatistics"
    PROPERTIES = {"span": PropertyType.INT, "split_names": PropertyType.STRING}


class ExampleAnomalies(Artifact):
    TYPE_NAME = "ExampleAnomalies"
    PROPERTIES = {"span": PropertyType.INT, "split_names": PropertyType.STRING}


class Schema(Artifact):
    TYPE_NAME = "Schema"


class TransformGraph(Artifact):
    TYPE_NAME = "TransformGraph"


class TransformCache(Artifact):
    TYPE_NAME = "TransformCache"


class Model(Artifact):
    TYPE_NAME = "Model"


class ModelRun(Artifact):
    TYPE_NAME = "ModelRun"


class ModelEvaluation(Artifact):
    TYPE_NAME = "ModelEvaluation"


class ModelBlessing(Artifact):
    TYPE_NAME = "ModelBlessing"


class InfraBlessing(Artifact):
    TYPE_NAME = "InfraBlessing"


#: The custom property of a ModelBlessing or InfraBlessing that says whether it blesses (TFX's).
BLESSED_KEY = "blessed"


def is_blessed(blessing: Artifact) -> bool:
    """TFX's test of a ModelBlessing or InfraBlessing: its custom property ``blessed`` is 1.
    The Pusher and the BulkInferrer act only on a blessed model."""
    value = blessing.get_custom_property(BLESSED_KEY)
    return isinstance(value, (int, float)) and value == 1


class PushedModel(Artifact):
    TYPE_NAME = "PushedModel"


class HyperParameters(Artifact):
    TYPE_NAME = "HyperParameters"


class TunerResults(Artifact):
    """The Tuner's trials: ``tuner_results.json``, one ``{trial_id, score, <hparams>}`` each."""

    TYPE_NAME = "TunerResults"


class ExamplesDiff(Artifact):
    """ExampleDiff's comparison of two Examples artifacts, one folder per split pair."""

    TYPE_NAME = "ExamplesDiff"


class InferenceResult(Artifact):
    TYPE_NAME = "InferenceResult"


class ValueArtifact(Artifact):
    """An artifact holding one small value in the file ``<uri>/value``.

    Scalars are mirrored into the ``value`` custom property, so conditions and inspection
    tools can read them from ML Metadata without touching the file system.
    """

    VALUE_FILE: ClassVar[str] = "value"
    PYTHON_TYPES: ClassVar[tuple[type, ...]] = ()
    _MIRROR_MAX_CHARS: ClassVar[int] = 256

    __slots__ = ("_has_value", "_value")

    def __init__(self, uri: str = "", **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self._value: Any = None
        self._has_value = False

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def check_value(self, value: Any) -> None:
        if not isinstance(value, self.PYTHON_TYPES) or (
            isinstance(value, bool) and bool not in self.PYTHON_TYPES
        ):
            expected = " or ".join(t.__name__ for t in self.PYTHON_TYPES)
            raise TypeError(
                f"a {self.type_name} artifact holds {expected}, got {type(value).__name__}"
            )

    @property
    def value_path(self) -> str:
        return os.path.join(self.uri, self.VALUE_FILE)

    def read(self) -> Any:
        with open(self.value_path, "rb") as f:
            self._value = self.decode(f.read())
        self._has_value = True
        return self._value

    def write(self, value: Any) -> None:
        self.check_value(value)
        data = self.encode(value)
        # Hold the value as read() would return it: a Float written as 3 holds 3.0.
        value = self.decode(data)
        os.makedirs(self.uri, exist_ok=True)
        with open(self.value_path, "wb") as f:
            f.write(data)
        self._value = value
        self._has_value = True
        if isinstance(value, (bool, int, float)) or (
            isinstance(value, str) and len(value) <= self._MIRROR_MAX_CHARS
        ):
            self.set_custom_property("value", value)

    @property
    def value(self) -> Any:
        if not self._has_value:
            return self.read()
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self.write(value)


class String(ValueArtifact):
    TYPE_NAME = "String"
    PYTHON_TYPES = (str,)

    def encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        return data.decode("utf-8")


class Integer(ValueArtifact):
    TYPE_NAME = "Integer"
    PYTHON_TYPES = (int,)

    def encode(self, value: Any) -> bytes:
        return str(int(value)).encode("ascii")

    def decode(self, data: bytes) -> Any:
        return int(data.decode("ascii"))


class Float(ValueArtifact):
    TYPE_NAME = "Float"
    PYTHON_TYPES = (float, int)

    def encode(self, value: Any) -> bytes:
        return repr(float(value)).encode("ascii")

    def decode(self, data: bytes) -> Any:
        return float(data.decode("ascii"))


class Boolean(ValueArtifact):
    TYPE_NAME = "Boolean"
    PYTHON_TYPES = (bool,)

    def encode(self, value: Any) -> bytes:
        return b"1" if value else b"0"

    def decode(self, data: bytes) -> Any:
        return data.strip() == b"1"


class Bytes(ValueArtifact):
    TYPE_NAME = "Bytes"
    PYTHON_TYPES = (bytes,)

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes) -> Any:
        return data


class JsonValue(ValueArtifact):
    TYPE_NAME = "JsonValue"
    PYTHON_TYPES = (dict, list, str, int, float, bool, type(None))

    def check_value(self, value: Any) -> None:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"a JsonValue artifact holds JSON-serializable data: {e}") from e

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, allow_nan=False).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        return json.loads(data.decode("utf-8"))


STANDARD_ARTIFACT_TYPES: tuple[type[Artifact], ...] = (
    Examples,
    ExampleStatistics,
    Schema,
    ExampleAnomalies,
    TransformGraph,
    TransformCache,
    Model,
    ModelRun,
    ModelEvaluation,
    ModelBlessing,
    InfraBlessing,
    PushedModel,
    HyperParameters,
    TunerResults,
    InferenceResult,
    ExamplesDiff,
    String,
    Integer,
    Float,
    Boolean,
    Bytes,
    JsonValue,
)
