"""Artifacts: standard types, properties, custom properties, JSON, splits and value artifacts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headrace_core import (
    Artifact,
    ArtifactState,
    Boolean,
    Bytes,
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    Float,
    Integer,
    JsonValue,
    Model,
    PropertyType,
    String,
)
from headrace_core.artifacts import (
    STANDARD_ARTIFACT_TYPES,
    decode_split_names,
    encode_split_names,
    split_uri,
)


class Scored(Artifact):
    TYPE_NAME = "Scored"
    PROPERTIES = {
        "score": PropertyType.DOUBLE,
        "count": PropertyType.INT,
        "label": PropertyType.STRING,
    }


# Standard types ---------------------------------------------------------------------------


def test_standard_types_keep_tfx_names_and_properties() -> None:
    assert dict(Examples.PROPERTIES) == {
        "span": PropertyType.INT,
        "version": PropertyType.INT,
        "split_names": PropertyType.STRING,
    }
    for cls in (ExampleStatistics, ExampleAnomalies):
        assert dict(cls.PROPERTIES) == {
            "span": PropertyType.INT,
            "split_names": PropertyType.STRING,
        }
    names = {cls.TYPE_NAME for cls in STANDARD_ARTIFACT_TYPES}
    assert {
        "Examples",
        "ExampleStatistics",
        "ExampleAnomalies",
        "Schema",
        "TransformGraph",
        "TransformCache",
        "Model",
        "ModelRun",
        "ModelEvaluation",
        "ModelBlessing",
        "InfraBlessing",
        "PushedModel",
        "HyperParameters",
        "TunerResults",
        "InferenceResult",
        "ExamplesDiff",
        "String",
        "Integer",
        "Float",
        "Boolean",
        "Bytes",
        "JsonValue",
    } == names
    assert len(names) == len(STANDARD_ARTIFACT_TYPES)


def test_declared_properties_read_and_write_as_attributes() -> None:
    examples = Examples("/data/examples/1")
    assert examples.span is None
    examples.span = 3
    examples.version = 2
    examples.split_names = encode_split_names(["train", "eval"])
    assert (examples.span, examples.version) == (3, 2)
    assert examples.get_property("span") == 3
    assert examples.properties == {
        "span": 3,
        "version": 2,
        "split_names": '["train", "eval"]',
    }
    assert examples.type_name == "Examples"
    assert examples.state is ArtifactState.PENDING


def test_properties_given_to_constructor_are_checked() -> None:
    stats = ExampleStatistics("/s", properties={"span": 4, "split_names": '["train"]'})
    assert stats.span == 4
    with pytest.raises(AttributeError, match=r"'ExampleStatistics' has no property 'version'"):
        ExampleStatistics("/s", properties={"version": 1})


@pytest.mark.parametrize(
    ("key", "value", "declared"),
    [
        ("span", "3", "INT"),
        ("span", 1.5, "INT"),
        ("span", True, "INT"),
        ("split_names", ["train"], "STRING"),
        ("version", None, "INT"),
    ],
)
def test_property_type_errors_name_property_type_and_value(
    key: str, value: object, declared: str
) -> None:
    examples = Examples("/e")
    with pytest.raises(TypeError) as info:
        setattr(examples, key, value)
    message = str(info.value)
    assert f"property {key!r}" in message
    assert "'Examples'" in message
    assert declared in message
    assert key not in examples.properties


def test_double_property_accepts_int_and_stores_float() -> None:
    scored = Scored("/x")
    scored.score = 2
    assert scored.score == 2.0
    assert isinstance(scored.score, float)
    with pytest.raises(TypeError, match="DOUBLE"):
        scored.score = False


def test_unknown_property_points_at_custom_properties() -> None:
    examples = Examples("/e")
    with pytest.raises(AttributeError, match="use set_custom_property"):
        examples.set_property("owner", "me")
    with pytest.raises(AttributeError, match="no property 'owner'"):
        examples.get_property("owner")
    with pytest.raises(AttributeError, match="no attribute 'owner'"):
        _ = examples.owner


def test_property_type_check() -> None:
    assert PropertyType.INT.check(3)
    assert not PropertyType.INT.check(True)
    assert not PropertyType.INT.check(3.0)
    assert PropertyType.DOUBLE.check(3)
    assert PropertyType.DOUBLE.check(3.5)
    assert not PropertyType.DOUBLE.check(True)
    assert PropertyType.STRING.check("x")
    assert not PropertyType.STRING.check(b"x")


def test_base_artifact_without_type_name_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="has no TYPE_NAME"):
        Artifact("/x")


# Custom properties ------------------------------------------------------------------------


def test_custom_properties() -> None:
    model = Model("/m")
    assert model.get_custom_property("blessed") is None
    assert not model.has_custom_property("blessed")
    model.set_custom_property("blessed", True)
    model.set_custom_property("accuracy", 0.9)
    model.set_custom_property("owner", "team-a")
    assert model.has_custom_property("blessed")
    assert model.get_custom_property("blessed") == 1
    assert type(model.get_custom_property("blessed")) is int
    assert model.custom_properties == {"blessed": 1, "accuracy": 0.9, "owner": "team-a"}
    with pytest.raises(TypeError, match=r"custom property 'tags' must be int, float or str"):
        model.set_custom_property("tags", ["a"])  # type: ignore[arg-type]
    assert "tags" not in model.custom_properties


def test_tfx_style_custom_property_accessors() -> None:
    model = Model("/m")
    model.set_int_custom_property("epochs", 12.0)  # type: ignore[arg-type]
    model.set_float_custom_property("loss", 1)
    model.set_string_custom_property("name", 42)  # type: ignore[arg-type]
    assert model.get_custom_property("epochs") == 12
    assert type(model.get_custom_property("epochs")) is int
    assert type(model.get_custom_property("loss")) is float
    assert model.get_custom_property("name") == "42"
    assert model.get_int_custom_property("epochs") == 12
    assert model.get_float_custom_property("loss") == 1.0
    assert model.get_string_custom_property("name") == "42"
    # TFX returns the type's zero value for an absent property.
    assert model.get_int_custom_property("absent") == 0
    assert model.get_float_custom_property("absent") == 0.0
    assert model.get_string_custom_property("absent") == ""


# JSON -----------------------------------------------------------------------------------


def test_json_round_trip_keeps_everything() -> None:
    examples = Examples(
        "/data/examples/7",
        id=7,
        name="examples-7",
        state=ArtifactState.LIVE,
        properties={"span": 2, "version": 1, "split_names": encode_split_names(["a", "b"])},
        custom_properties={"origin": "csv", "rows": 10, "ratio": 0.5},
    )
    data = examples.to_json_dict()
    assert data == {
        "type": "Examples",
        "id": 7,
        "uri": "/data/examples/7",
        "name": "examples-7",
        "state": "LIVE",
        "properties": {"span": 2, "split_names": '["a", "b"]', "version": 1},
        "custom_properties": {"origin": "csv", "ratio": 0.5, "rows": 10},
    }
    # The dict is JSON as written to disk and read back.
    back = Examples.from_json_dict(json.loads(json.dumps(data)))
    assert isinstance(back, Examples)
    assert back.to_json_dict() == data
    assert back.state is ArtifactState.LIVE
    assert back.span == 2


def test_from_json_dict_refuses_another_type_and_bad_properties() -> None:
    data = Model("/m").to_json_dict()
    with pytest.raises(ValueError, match="cannot read a 'Model' artifact as 'Examples'"):
        Examples.from_json_dict(data)
    bad = Examples("/e").to_json_dict()
    bad["properties"] = {"span": "one"}
    with pytest.raises(TypeError, match="'span'"):
        Examples.from_json_dict(bad)
    # A dict without a type is read as the class asked for.
    assert Examples.from_json_dict({"uri": "/x"}).uri == "/x"


def test_repr_shows_type_uri_and_properties() -> None:
    text = repr(Examples("/e", id=3, properties={"span": 1}))
    assert text == "Examples(id=3, uri='/e', state=PENDING, span=1)"


# Splits ---------------------------------------------------------------------------------


def test_split_names_encoding() -> None:
    encoded = encode_split_names(["train", "eval"])
    assert encoded == '["train", "eval"]'
    assert decode_split_names(encoded) == ["train", "eval"]
    assert decode_split_names("") == []
    assert decode_split_names(None) == []
    with pytest.raises(ValueError, match="JSON list of strings"):
        decode_split_names('{"train": 1}')
    with pytest.raises(ValueError, match="JSON list of strings"):
        decode_split_names("[1, 2]")


def test_split_uri() -> None:
    examples = Examples("/root/ExampleGen/examples/3")
    assert split_uri(examples, "train") == os.path.join(
        "/root/ExampleGen/examples/3", "Split-train"
    )


# Value artifacts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "value", "file_bytes", "mirrored"),
    [
        (String, "héllo", "héllo".encode(), "héllo"),
        (Integer, -42, b"-42", -42),
        (Float, 0.25, b"0.25", 0.25),
        (Boolean, True, b"1", 1),
        (Boolean, False, b"0", 0),
        (Bytes, b"\x00\xffdata", b"\x00\xffdata", None),
        (JsonValue, {"b": [1, 2], "a": None}, b'{"a": null, "b": [1, 2]}', None),
        (JsonValue, "short", b'"short"', "short"),
        (JsonValue, 3, b"3", 3),
    ],
)
def test_value_artifacts_write_read_and_mirror(
    tmp_path: Path, cls: type, value: object, file_bytes: bytes, mirrored: object
) -> None:
    uri = tmp_path / "value_artifact"
    artifact = cls(str(uri))
    artifact.write(value)
    assert (uri / "value").read_bytes() == file_bytes
    assert artifact.value == value
    assert artifact.get_custom_property("value") == mirrored
    assert artifact.has_custom_property("value") is (mirrored is not None)
    # A fresh artifact at the same uri reads the file.
    again = cls(str(uri))
    assert again.value == value
    assert type(again.value) is type(value)


def test_value_setter_writes(tmp_path: Path) -> None:
    answer = Integer(str(tmp_path / "answer"))
    answer.value = 42
    assert (tmp_path / "answer" / "value").read_text() == "42"
    assert answer.get_custom_property("value") == 42


def test_float_written_as_int_holds_a_float(tmp_path: Path) -> None:
    number = Float(str(tmp_path / "f"))
    number.write(3)
    assert number.value == 3.0
    assert isinstance(number.value, float)
    assert isinstance(number.get_custom_property("value"), float)
    assert Float(number.uri).value == number.value


def test_long_strings_are_not_mirrored(tmp_path: Path) -> None:
    text = String(str(tmp_path / "s"))
    text.write("x" * 257)
    assert not text.has_custom_property("value")
    short = String(str(tmp_path / "t"))
    short.write("x" * 256)
    assert short.get_custom_property("value") == "x" * 256


@pytest.mark.parametrize(
    ("cls", "value", "message"),
    [
        (String, 3, "a String artifact holds str, got int"),
        (Integer, "3", "a Integer artifact holds int, got str"),
        (Integer, True, "a Integer artifact holds int, got bool"),
        (Float, "0.5", "a Float artifact holds float or int, got str"),
        (Float, False, "a Float artifact holds float or int, got bool"),
        (Boolean, 1, "a Boolean artifact holds bool, got int"),
        (Bytes, "text", "a Bytes artifact holds bytes, got str"),
        (JsonValue, {"s": {1, 2}}, "JSON-serializable"),
        (JsonValue, float("nan"), "JSON-serializable"),
    ],
)
def test_value_type_errors_write_nothing(
    tmp_path: Path, cls: type, value: object, message: str
) -> None:
    artifact = cls(str(tmp_path / "v"))
    with pytest.raises(TypeError, match=message):
        artifact.write(value)
    assert not (tmp_path / "v" / "value").exists()
    assert not artifact.has_custom_property("value")


def test_reading_a_missing_value_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _ = Integer(str(tmp_path / "nothing")).value


def test_value_artifact_round_trips_through_json(tmp_path: Path) -> None:
    flag = Boolean(str(tmp_path / "flag"), id=5)
    flag.write(True)
    back = Boolean.from_json_dict(flag.to_json_dict())
    assert back.get_custom_property("value") == 1
    assert back.id == 5
    assert back.value is True


def test_is_blessed_is_tfx_rule() -> None:
    from headrace_core.artifacts import BLESSED_KEY, InfraBlessing, ModelBlessing, is_blessed

    blessing = ModelBlessing("/b")
    assert not is_blessed(blessing)  # no verdict is not a blessing
    for value, expected in ((1, True), (1.0, True), (0, False), ("1", False), (2, False)):
        blessing.set_custom_property(BLESSED_KEY, value)
        assert is_blessed(blessing) is expected, value
    infra = InfraBlessing("/i")
    infra.set_custom_property("blessed", 1)
    assert is_blessed(infra)
