"""The component: TFX's names, push_destination checks, the IR, the plugin contract, and
that neither defining nor running a push imports TensorFlow."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from headrace_core import (
    PIPELINE_ROOT,
    Importer,
    InfraBlessing,
    InvalidComponentArgumentError,
    Model,
    ModelBlessing,
    Pipeline,
    PushedModel,
    pipeline_root,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution, imported_heavy_modules
from headrace_pusher import Pusher, PusherSpec, __version__
from headrace_pusher.component import normalize_push_destination


def _importers() -> tuple[Importer, Importer, Importer]:
    model = Importer(source_uri="/models/1", artifact_type=Model).with_id("model")
    blessing = Importer(
        source_uri="/blessing/1", artifact_type=ModelBlessing, custom_properties={"blessed": 1}
    ).with_id("blessing")
    infra = Importer(
        source_uri="/infra/1", artifact_type=InfraBlessing, custom_properties={"blessed": 1}
    ).with_id("infra")
    return model, blessing, infra


def test_tfx_names() -> None:
    assert set(PusherSpec.INPUTS) == {"model", "model_blessing", "infra_blessing"}
    assert PusherSpec.INPUTS["model_blessing"].optional
    assert PusherSpec.INPUTS["model"].optional  # TFX: model, or infra_blessing's stamped model
    assert PusherSpec.INPUTS["infra_blessing"].optional
    assert set(PusherSpec.PARAMETERS) == {"push_destination", "custom_config"}
    assert PusherSpec.OUTPUTS["pushed_model"].type is PushedModel
    assert PusherSpec.OUTPUTS["pushed_model"].allow_empty  # nothing to copy when not blessed
    model, blessing, _ = _importers()
    pusher = Pusher(
        model=model.outputs["result"],
        model_blessing=blessing.outputs["result"],
        push_destination={"filesystem": {"base_directory": "/serving/penguin"}},
    )
    assert pusher.outputs["pushed_model"].type is PushedModel
    assert set(pusher.inputs) == {"model", "model_blessing"}
    assert pusher.exec_properties == {
        "push_destination": {"filesystem": {"base_directory": "/serving/penguin"}}
    }


def test_ir(tmp_path: Path) -> None:
    model, blessing, infra = _importers()
    pusher = Pusher(
        model.outputs["result"],
        model_blessing=blessing.outputs["result"],
        infra_blessing=infra.outputs["result"],
        push_destination=json.dumps(
            {"filesystem": {"base_directory": "/serving/p", "versioning": "UNIX_TIMESTAMP"}}
        ),
        custom_config={"team": "penguins"},
    )
    document = ir_mod.compile(Pipeline("push", str(tmp_path), [model, blessing, infra, pusher]))
    [node] = [n for n in document["nodes"] if n["id"] == "Pusher"]
    assert node["executor"] == "headrace_pusher.executor:Executor"
    assert node["parameters"] == {
        "push_destination": {
            "filesystem": {"base_directory": "/serving/p", "versioning": "UNIX_TIMESTAMP"}
        },
        "custom_config": {"team": "penguins"},
    }
    assert node["outputs"]["pushed_model"]["type"] == "PushedModel"
    assert node["inputs"]["infra_blessing"]["optional"] is True
    assert node["provider"]["distribution"] == "headrace-pusher"
    assert node["provider"]["version"] == __version__ == "0.1.0"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"filesystem": {"base_directory": "/s/m"}}, {"base_directory": "/s/m"}),
        ('{"filesystem": {"baseDirectory": "/s/m"}}', {"base_directory": "/s/m"}),
        (
            {"filesystem": {"base_directory": "/s/m", "versioning": "AUTO"}},
            {"base_directory": "/s/m"},
        ),
        ({"filesystem": {"base_directory": "/s/m", "versioning": 0}}, {"base_directory": "/s/m"}),
        (
            {"filesystem": {"base_directory": "/s/m", "versioning": 1}},
            {"base_directory": "/s/m", "versioning": "UNIX_TIMESTAMP"},
        ),
        (
            {"filesystem": {"base_directory": "serving/m"}},
            {"base_directory": os.path.join(os.getcwd(), "serving", "m")},
        ),
    ],
)
def test_push_destination_forms(given: Any, expected: dict[str, str]) -> None:
    assert normalize_push_destination(given) == {"filesystem": expected}


def test_a_base_directory_under_the_pipeline_root_is_kept_for_launch(tmp_path: Path) -> None:
    # TFX's spelling, with the root of the run in place of a fixed directory.
    destination = {"filesystem": {"base_directory": os.path.join(PIPELINE_ROOT, "serving_model")}}
    assert normalize_push_destination(destination) == {
        "filesystem": {"base_directory": pipeline_root("serving_model")}
    }
    model, _, _ = _importers()
    pusher = Pusher(model=model.outputs["result"], push_destination=destination)
    document = ir_mod.compile(Pipeline("p", str(tmp_path), [model, pusher]))
    [node] = [n for n in document["nodes"] if n["id"] == "Pusher"]
    assert node["parameters"]["push_destination"] == {
        "filesystem": {"base_directory": pipeline_root("serving_model")}
    }


def test_push_destination_as_a_protobuf_message() -> None:
    # A message with TFX's pusher.proto shape, built here: headrace does not depend on tfx.
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(
        name="headrace_test_pusher.proto", package="headrace_test.pusher", syntax="proto3"
    )
    file.enum_type.add(name="Versioning").value.extend(
        [
            descriptor_pb2.EnumValueDescriptorProto(name="AUTO", number=0),
            descriptor_pb2.EnumValueDescriptorProto(name="UNIX_TIMESTAMP", number=1),
        ]
    )
    destination = file.message_type.add(name="PushDestination")
    filesystem = destination.nested_type.add(name="Filesystem")
    filesystem.field.add(name="base_directory", number=1, type=9, label=1)
    filesystem.field.add(
        name="versioning", number=2, type=14, label=1, type_name=".headrace_test.pusher.Versioning"
    )
    destination.oneof_decl.add(name="destination")
    destination.field.add(
        name="filesystem",
        number=1,
        type=11,
        label=1,
        type_name=".headrace_test.pusher.PushDestination.Filesystem",
        oneof_index=0,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("headrace_test.pusher.PushDestination")
    )
    message = cls()
    message.filesystem.base_directory = "/serving/m"
    message.filesystem.versioning = 1
    model, _, _ = _importers()
    pusher = Pusher(model.outputs["result"], push_destination=message)
    assert pusher.exec_properties["push_destination"] == {
        "filesystem": {"base_directory": "/serving/m", "versioning": "UNIX_TIMESTAMP"}
    }


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (None, r"Pusher: push_destination is required"),
        ({}, r"Pusher: push_destination.filesystem is required"),
        ({"filesystem": {}}, r"Pusher: push_destination.filesystem.base_directory is required"),
        (
            {"filesystem": {"base_directory": ""}},
            r"push_destination.filesystem.base_directory is required: .*; got ''",
        ),
        (
            {"filesystem": {"base_dir": "/s"}},
            r"push_destination.filesystem: unknown field 'base_dir' \(did you mean "
            r"'base_directory'\?\)",
        ),
        ({"file_system": {}}, r"unknown destination 'file_system' \(did you mean 'filesystem'\?\)"),
        (
            {"filesystem": {"base_directory": "gs://bucket/m"}},
            r"base_directory 'gs://bucket/m': .* remote URIs are not supported",
        ),
        (
            {"filesystem": {"base_directory": "/s", "versioning": "DAILY"}},
            r"versioning must be one of AUTO, UNIX_TIMESTAMP \(or 0, 1\), got 'DAILY'",
        ),
        ("{oops", r"Pusher: push_destination is not valid JSON"),
        ("/serving/m", r"Pusher: push_destination is not valid JSON"),
        (["/serving/m"], r"Pusher: push_destination takes a dict"),
    ],
)
def test_bad_push_destination(destination: Any, message: str) -> None:
    model, _, _ = _importers()
    with pytest.raises(InvalidComponentArgumentError, match=message):
        Pusher(model.outputs["result"], push_destination=destination)


def test_channels_of_the_wrong_type_are_refused() -> None:
    model, blessing, _ = _importers()
    destination = {"filesystem": {"base_directory": "/s"}}
    with pytest.raises(InvalidComponentArgumentError, match="input 'model' expects Model"):
        Pusher(blessing.outputs["result"], push_destination=destination)
    with pytest.raises(
        InvalidComponentArgumentError, match="input 'infra_blessing' expects InfraBlessing"
    ):
        Pusher(
            model.outputs["result"],
            infra_blessing=blessing.outputs["result"],
            push_destination=destination,
        )
    with pytest.raises(InvalidComponentArgumentError, match="custom_config' expects dict"):
        Pusher(model.outputs["result"], push_destination=destination, custom_config="x")  # type: ignore[arg-type]


def test_a_model_or_an_infra_blessing_is_needed() -> None:
    _, _, infra = _importers()
    destination = {"filesystem": {"base_directory": "/serving/penguin"}}
    with pytest.raises(InvalidComponentArgumentError, match=r"give model .* or infra_blessing"):
        Pusher(push_destination=destination)
    pusher = Pusher(infra_blessing=infra.outputs["result"], push_destination=destination)
    assert set(pusher.inputs) == {"infra_blessing"}


def test_distribution_conforms() -> None:
    # Also checks, in a fresh interpreter, that loading the plugin and importing the component
    # imports neither TensorFlow nor Beam.
    assert check_distribution("headrace-pusher") == ["Pusher"]


def test_pushing_imports_no_tensorflow(tmp_path: Path, saved_models: dict[str, str]) -> None:
    # A whole push, executor and viewer included, in a fresh interpreter.
    code = f"""
import shutil
from headrace_core import Model, PushedModel
from headrace_pusher.executor import Executor
from headrace_pusher.viewer import summarize
shutil.copytree({saved_models["a"]!r}, {str(tmp_path / "model" / "Format-Serving")!r})
out = PushedModel({str(tmp_path / "out")!r})
Executor().Do(
    {{"model": [Model({str(tmp_path / "model")!r})]}},
    {{"pushed_model": [out]}},
    {{"push_destination": {{"filesystem": {{"base_directory": {str(tmp_path / "serving")!r}}}}}}},
)
assert out.get_custom_property("pushed") == 1, out.custom_properties
assert "pushed: yes" in summarize(out).text
"""
    assert imported_heavy_modules(["headrace_pusher.executor"], code) == []
    assert len([p for p in (tmp_path / "serving").iterdir() if p.name.isdigit()]) == 1
