"""The ``tfx.v1`` tree and the older TFX module paths TFX's examples import: each name is
headrace's object, a component package that is not installed is named with its pip install,
and a TFX name headrace lacks says so."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

import headrace_core
import headrace_core.dsl
from headrace_tfx import v1 as tfx
from headrace_tfx._names import MissingTfxNameError, exports
from headrace_tfx.v1.components import NAMES


@pytest.mark.parametrize("name", sorted(NAMES))
def test_components_come_from_their_packages(name: str) -> None:
    ref, distribution = NAMES[name]
    module, _, attribute = ref.partition(":")
    if importlib.util.find_spec(module) is None:
        with pytest.raises(MissingTfxNameError, match=rf"pip install {distribution}$"):
            getattr(tfx.components, name)
    else:
        assert getattr(tfx.components, name) is getattr(importlib.import_module(module), attribute)
    from headrace_tfx import components

    assert name in dir(components) and name in components.__all__


def test_every_tfx_v1_component_is_mapped() -> None:
    # TFX 1.16's tfx.v1.components, name for name.
    assert set(NAMES) == {
        "BulkInferrer", "CsvExampleGen", "DataAccessor", "Evaluator", "ExampleDiff",
        "ExampleValidator", "FnArgs", "ImportExampleGen", "ImportSchemaGen", "InfraValidator",
        "Pusher", "SchemaGen", "StatisticsGen", "Trainer", "Transform", "Tuner", "TunerFnResult",
    }  # fmt: skip
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        tfx.components.Nope  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize(
    ("module", "name", "says"),
    [
        ("dsl.placeholders", "input", "no container components"),
        ("dsl.placeholders", "exec_property", "no container components"),
        ("dsl.experimental", "RuntimeParameter", r"future\(\)\[0\]\.value"),
        ("dsl.experimental", "create_container_component", "function component"),
        ("extensions", "google_cloud_ai_platform", "Dataflow"),
        ("testing", "Channel", "Importer"),
    ],
)
def test_tfx_names_headrace_lacks_say_what_to_do_instead(module: str, name: str, says: str) -> None:
    namespace = importlib.import_module(f"headrace_tfx.v1.{module}")
    with pytest.raises(MissingTfxNameError, match=rf"^tfx.v1.{module}.{name}: .*{says}"):
        getattr(namespace, name)
    assert tfx.dsl.experimental.ResolverStrategy is headrace_core.dsl.ResolverStrategy


def test_utils_read_text_and_json_messages(tmp_path: Path) -> None:
    (tmp_path / "args.pbtxt").write_text("num_steps: 7\nsplits: 'train'\n")
    args = tfx.utils.parse_pbtxt_file(str(tmp_path / "args.pbtxt"), tfx.proto.TrainArgs())
    assert args == tfx.proto.TrainArgs(num_steps=7, splits=["train"])
    from headrace_tfx.utils import io_utils

    (tmp_path / "args.json").write_text('{"num_steps": 7, "splits": ["train"]}')
    assert io_utils.parse_json_file(str(tmp_path / "args.json"), tfx.proto.TrainArgs()) == args


def test_a_name_headrace_lacks_says_what_to_do() -> None:
    getattr_, dir_ = exports("tfx.v1.x", {}, {"Later": "use Y instead"})
    with pytest.raises(MissingTfxNameError, match=r"^tfx.v1.x.Later: use Y instead$"):
        getattr_("Later")
    assert dir_() == []


def test_dsl_types_and_orchestration_are_headraces() -> None:
    assert issubclass(tfx.dsl.Pipeline, headrace_core.Pipeline)
    for name in ("Channel", "Cond", "Importer", "Resolver", "Artifact"):
        assert getattr(tfx.dsl, name) is getattr(headrace_core, name)
    for name in ("component", "InputArtifact", "OutputArtifact", "Parameter"):
        assert getattr(tfx.dsl.components, name) is getattr(headrace_core, name)
    for name in ("LatestArtifactStrategy", "LatestBlessedModelStrategy", "SpanRangeStrategy"):
        assert getattr(tfx.dsl.experimental, name) is getattr(headrace_core, name)
    for name in tfx.types.standard_artifacts.__all__:
        assert getattr(tfx.types.standard_artifacts, name) is getattr(headrace_core, name)
    assert tfx.types.BaseChannel is headrace_core.Channel
    assert callable(tfx.orchestration.LocalDagRunner().run)


def test_older_module_paths() -> None:
    from headrace_tfx.dsl.components.common.importer import Importer
    from headrace_tfx.dsl.components.common.resolver import Resolver
    from headrace_tfx.dsl.experimental.latest_artifacts_resolver import LatestArtifactsResolver
    from headrace_tfx.dsl.experimental.latest_blessed_model_resolver import (
        LatestBlessedModelResolver,
    )
    from headrace_tfx.orchestration import metadata, pipeline
    from headrace_tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from headrace_tfx.proto import pusher_pb2, trainer_pb2
    from headrace_tfx.types import Channel, standard_artifacts

    assert Resolver is headrace_core.Resolver and Importer is headrace_core.Importer
    assert LatestBlessedModelResolver is headrace_core.LatestBlessedModelStrategy
    assert LatestArtifactsResolver is headrace_core.LatestArtifactStrategy
    assert pipeline.Pipeline is tfx.dsl.Pipeline
    assert LocalDagRunner is tfx.orchestration.LocalDagRunner
    assert metadata.sqlite_metadata_connection_config is (
        tfx.orchestration.metadata.sqlite_metadata_connection_config
    )
    assert trainer_pb2.TrainArgs is tfx.proto.TrainArgs
    assert pusher_pb2.PushDestination is tfx.proto.PushDestination
    assert Channel is headrace_core.Channel
    assert standard_artifacts.Model is headrace_core.Model


def test_pipeline_keeps_tfxs_keywords_and_defaults() -> None:
    def node() -> headrace_core.Importer:
        return headrace_core.Importer(source_uri="/s", artifact_type=headrace_core.Schema)

    pipeline = tfx.dsl.Pipeline(pipeline_name="p", pipeline_root="/tmp/p", components=[node()])
    assert pipeline.enable_cache is False  # TFX's default
    # TFX's positional order: name, root, metadata_connection_config, components, enable_cache.
    positional = tfx.dsl.Pipeline("p", "/tmp/p", "sqlite:////tmp/m", [node()], True)
    assert positional.enable_cache is True
    assert positional.metadata_connection_config == "sqlite:////tmp/m"
    with pytest.raises(TypeError, match="headrace does not take platform_config"):
        tfx.dsl.Pipeline("p", "/tmp/p", components=[node()], platform_config=object())


def test_metadata_connection_configs() -> None:
    sqlite = tfx.orchestration.metadata.sqlite_metadata_connection_config("/tmp/m.sqlite")
    assert sqlite == "sqlite:////tmp/m.sqlite"
    mysql = tfx.orchestration.metadata.mysql_metadata_connection_config
    assert mysql("db", 3306, "mlmd", "ml") == "mysql://ml@db:3306/mlmd"
    assert mysql("db", "3307", "ml md", "a@b", "p:w/") == "mysql://a%40b:p%3Aw%2F@db:3307/ml%20md"


def test_importing_headrace_tfx_answers_import_tfx_here_and_in_child_processes() -> None:
    """Where the real TFX is not installed: a pipeline file edited to import headrace_tfx
    keeps its module files' `from tfx...` imports, in node processes too."""
    import subprocess
    import sys

    script = """
import subprocess, sys
import headrace_tfx
import tfx.v1
from tfx.proto import trainer_pb2
assert tfx.v1 is headrace_tfx.v1, tfx.v1
assert trainer_pb2.TrainArgs is headrace_tfx.v1.proto.TrainArgs
assert headrace_tfx.v1.__spec__.name == "headrace_tfx.v1"  # the real module keeps its spec
child = "from tfx.proto import pusher_pb2; print(pusher_pb2.PushDestination.DESCRIPTOR.full_name)"
done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
print(done.stdout)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "tfx.components.pusher.PushDestination"
