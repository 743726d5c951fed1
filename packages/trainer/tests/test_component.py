"""The component: its spec, argument checks, the IR, the driver and the plugin contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headrace_core import (
    Channel,
    Examples,
    Importer,
    InvalidComponentArgumentError,
    LatestArtifactStrategy,
    Model,
    ModelRun,
    Pipeline,
    Resolver,
    Schema,
    TransformGraph,
)
from headrace_core import ir as ir_mod
from headrace_core.driver import DriverContext
from headrace_core.testing import check_distribution
from headrace_trainer import Trainer, TrainerSpec, UserModuleError, __version__
from headrace_trainer.driver import run_driver


def _examples() -> Importer:
    return Importer(
        source_uri="/data/examples",
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("examples")


def test_tfx_names() -> None:
    assert set(TrainerSpec.INPUTS) == {
        "examples",
        "transform_graph",
        "schema",
        "base_model",
        "hyperparameters",
    }
    assert all(TrainerSpec.INPUTS[k].optional for k in TrainerSpec.INPUTS if k != "examples")
    assert set(TrainerSpec.PARAMETERS) == {
        "module_file",
        "run_fn",
        "train_args",
        "eval_args",
        "custom_config",
    }
    assert TrainerSpec.OUTPUTS["model"].type is Model
    assert TrainerSpec.OUTPUTS["model_run"].type is ModelRun
    trainer = Trainer(_examples().outputs["result"], run_fn="my_models.penguin.run_fn")
    assert trainer.outputs["model"].type is Model
    assert trainer.exec_properties == {"run_fn": "my_models.penguin.run_fn"}
    assert Trainer.EXECUTOR_ENV == {"TF_USE_LEGACY_KERAS": "1"}
    assert __version__ == "0.1.0"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"module_file": "m.py", "run_fn": "m.run_fn"}],
    ids=["neither", "both"],
)
def test_exactly_one_of_module_file_and_run_fn(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidComponentArgumentError, match="exactly one of module_file"):
        Trainer(_examples().outputs["result"], **kwargs)


def test_run_fn_must_be_a_dotted_reference() -> None:
    with pytest.raises(InvalidComponentArgumentError, match=r"'package\.module\.function'"):
        Trainer(_examples().outputs["result"], run_fn="run_fn")


def test_module_file_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    trainer = Trainer(_examples().outputs["result"], module_file="penguin.py")
    assert trainer.exec_properties["module_file"] == str(tmp_path / "penguin.py")


def _trainer_args_message(num_steps: int, splits: list[str]) -> Any:
    """A stand-in for ``tfx.proto.trainer_pb2.TrainArgs`` (same fields and numbers), built
    at run time so the test needs no tfx package."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(
        name="headrace_test_trainer.proto", package="headrace_test", syntax="proto2"
    )
    message = proto.message_type.add(name="TrainArgs")
    message.field.add(
        name="num_steps",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.field.add(
        name="splits",
        number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("headrace_test.TrainArgs"))
    return cls(num_steps=num_steps, splits=splits)


def test_train_and_eval_args_as_dicts_or_messages() -> None:
    trainer = Trainer(
        _examples().outputs["result"],
        run_fn="m.run_fn",
        train_args=_trainer_args_message(100, ["train"]),
        eval_args={"num_steps": 5},
        custom_config={"epochs": 2},
    )
    assert trainer.exec_properties == {
        "run_fn": "m.run_fn",
        "train_args": {"num_steps": 100, "splits": ["train"]},
        "eval_args": {"num_steps": 5},
        "custom_config": {"epochs": 2},
    }


@pytest.mark.parametrize(
    ("train_args", "message"),
    [
        ({"num_step": 100}, "unknown field 'num_step' (did you mean 'num_steps'?)"),
        ({"num_steps": -1}, "train_args.num_steps must be a non-negative int, got -1"),
        ({"splits": "train"}, "train_args.splits must be a list of split names"),
        (42, "train_args takes a dict such as {'num_steps': 100}"),
    ],
)
def test_bad_train_args(train_args: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError) as failure:
        Trainer(_examples().outputs["result"], run_fn="m.run_fn", train_args=train_args)
    assert message in str(failure.value)


def test_ir_with_warm_start_resolver(tmp_path: Path) -> None:
    examples = _examples()
    transform = Importer(source_uri="/data/tg", artifact_type=TransformGraph).with_id("tg")
    schema = Importer(source_uri="/data/schema", artifact_type=Schema).with_id("schema")
    latest = Resolver(strategy_class=LatestArtifactStrategy, model=Channel(type=Model)).with_id(
        "latest_model"
    )
    trainer = Trainer(
        examples=examples.outputs["result"],
        transform_graph=transform.outputs["result"],
        schema=schema.outputs["result"],
        base_model=latest.outputs["model"],
        module_file=str(tmp_path / "penguin.py"),
        train_args={"num_steps": 100},
        eval_args={"num_steps": 5},
    )
    pipeline = Pipeline("tr", str(tmp_path), [examples, transform, schema, latest, trainer])
    document = ir_mod.compile(pipeline)
    [node] = [n for n in document["nodes"] if n["id"] == "Trainer"]
    assert node["executor"] == "headrace_trainer.executor:Executor"
    assert node["driver"] == "headrace_trainer.driver:run_driver"
    assert node["environment"] == {"TF_USE_LEGACY_KERAS": "1"}
    assert node["parameters"] == {
        "module_file": str(tmp_path / "penguin.py"),
        "train_args": {"num_steps": 100},
        "eval_args": {"num_steps": 5},
    }
    assert node["inputs"]["base_model"]["optional"] is True
    assert node["upstream"] == ["examples", "latest_model", "schema", "tg"]
    assert node["provider"]["distribution"] == "headrace-trainer"


def _drive(**exec_properties: Any) -> dict[str, Any]:
    context = DriverContext("p", "/tmp/p", "run", "Trainer", exec_properties, {})
    return run_driver(context).cache_key


def test_driver_keys_a_run_fn_module_on_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "hr_user_models"
    package.mkdir()
    # Importing the package would fail: the driver must find the file without importing.
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "penguin.py").write_text("def run_fn(fn_args):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = _drive(run_fn="hr_user_models.penguin.run_fn")
    assert before["run_fn_source"]["module"] == "hr_user_models.penguin"
    assert set(before["run_fn_source"]["files"]) == {"__init__.py", "penguin.py"}
    (package / "penguin.py").write_text("def run_fn(fn_args):\n    return 1\n")
    after = _drive(run_fn="hr_user_models.penguin:run_fn")
    assert after != before
    assert _drive(run_fn="hr_no_such_module.run_fn") == {"run_fn_source": None}


def test_driver_fails_early_on_a_missing_module_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.py"
    with pytest.raises(UserModuleError, match=f"module_file {missing} does not exist"):
        _drive(module_file=str(missing))
    missing.write_text("def run_fn(fn_args):\n    pass\n")
    # Present: the core already hashes a module_file parameter; nothing to add.
    assert _drive(module_file=str(missing)) == {}


def test_conformance() -> None:
    assert check_distribution("headrace-trainer") == ["Trainer"]
