"""Flink, ready for users who have Beam's Flink job server (issue 13, item 3).

A real Flink 1.18.1 cluster (one JobManager, one TaskManager, every socket on 127.0.0.1) is
assembled from PyPI and started by ``_flink``. The tests prove, in order:

* the cluster runs a job of Flink's own (Flink SQL through its Java API);
* the penguin pipeline's Beam components, given FlinkRunner arguments in the pipeline's
  ``beam_pipeline_args``, hand Beam exactly the options a Flink job needs, and Beam stages the
  user's module (Transform's ``preprocessing_fn`` with the helpers beside it) as an
  ``--extra_package`` wheel that a worker in an empty folder imports and unpickles from;
* with ``HEADRACE_FLINK_JOB_SERVER_JAR`` naming Beam's Flink 1.18 job-server jar, the
  penguin pipeline runs with its Beam work on the cluster and matches the local run. Beam's
  wheels ship no job-server jar and it lives on Maven Central; without it that test skips.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _flink import (  # noqa: E402
    FlinkCluster,
    FlinkUnavailableError,
    flink_cluster,
    listening_addresses,
    run_sum_job,
)

REPO = HERE.parents[1]
PENGUIN = REPO / "examples" / "penguin"
ENV_JOB_SERVER_JAR = "HEADRACE_FLINK_JOB_SERVER_JAR"
NO_JAR = (
    f"{ENV_JOB_SERVER_JAR} is not set: Beam's Flink job-server jar "
    "(beam-runners-flink-1.18-job-server-<beam version>.jar, from Maven Central) is needed to "
    "run Beam pipelines on Flink; Beam's wheels ship none"
)
# The penguin nodes whose executors build Beam pipelines from the pipeline's arguments.
BEAM_NODES = ("CsvExampleGen", "StatisticsGen", "Transform", "Evaluator")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkCluster]:
    try:
        # Not waited for: the argument test needs only its address while the JVMs start.
        with flink_cluster(tmp_path_factory.mktemp("flink"), wait=False) as running:
            yield running
    except FlinkUnavailableError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no local Flink cluster: {e}")


def _penguin(root: Path, beam_args: list[str]) -> Any:
    """The penguin pipeline as its file builds it, with these ``beam_pipeline_args``."""
    import importlib.util

    from headrace_core import Pipeline

    spec = importlib.util.spec_from_file_location("penguin_pipeline", PENGUIN / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    p = module.create_pipeline()
    return Pipeline(p.pipeline_name, str(root), p.components, beam_pipeline_args=beam_args)


def _flink_args(cluster: FlinkCluster, environment: str) -> list[str]:
    return [
        "--runner=FlinkRunner",
        f"--flink_master={cluster.master}",
        "--flink_version=1.18",
        "--parallelism=1",
        f"--environment_type={environment}",
        "--environment_config=127.0.0.1:50000",
        "--sdk_location=container",
    ]


def _executor_args(document: dict[str, Any]) -> dict[str, list[str]]:
    """The Beam arguments each Beam node's executor builds its pipeline from, as the runtime
    constructs it (ExecutorContext from the IR's pipeline arguments); Transform's with the
    wheel of its module file added, as its executor adds it."""
    from headrace_transform.udf import load_preprocessing_fn

    from headrace_core.executor import ExecutorContext, load_executor_class
    from headrace_core.usercode import with_user_code

    nodes = {n["id"]: n for n in document["nodes"]}
    context = ExecutorContext(beam_pipeline_args=tuple(document["pipeline"]["beam_pipeline_args"]))
    found = {}
    for node_id in BEAM_NODES:
        executor = load_executor_class(nodes[node_id]["executor"])(context)
        args = executor._get_beam_pipeline_args()
        if node_id == "Transform":
            parameters = nodes[node_id]["parameters"]
            fn = load_preprocessing_fn(parameters["module_file"], None)
            args = with_user_code(args, fn)
        found[node_id] = args
    return found


def test_flink_arguments_and_staging(
    cluster: FlinkCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apache_beam.options.pipeline_options import (
        FlinkRunnerOptions,
        PipelineOptions,
        PortableOptions,
        SetupOptions,
        StandardOptions,
    )
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2
    from apache_beam.transforms.environments import Environment

    from headrace_core import ir
    from headrace_core.usercode import user_code_of

    monkeypatch.setenv("HEADRACE_USER_CODE_DIR", str(tmp_path / "usercode"))
    given = _flink_args(cluster, "EXTERNAL")
    # Through the IR's text, as a node process reads it.
    document = ir.loads(ir.dumps(ir.compile(_penguin(tmp_path / "root", given))))
    assert document["pipeline"]["beam_pipeline_args"] == given
    per_node = _executor_args(document)

    [wheel_flag] = [a for a in per_node["Transform"] if a.startswith("--extra_package=")]
    for node_id, args in per_node.items():
        expected = [*given, wheel_flag] if node_id == "Transform" else given
        assert args == expected, node_id
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            options = PipelineOptions(args)
            options.get_all_options()
        assert "Discarding unparseable args" not in caplog.text, (node_id, caplog.text)
        assert options.view_as(StandardOptions).runner == "FlinkRunner"
        flink = options.view_as(FlinkRunnerOptions)
        assert (flink.flink_master, flink.flink_version, flink.parallelism) == (
            cluster.master,
            "1.18",
            1,
        )
        portable = options.view_as(PortableOptions)
        assert (portable.environment_type, portable.environment_config) == (
            "EXTERNAL",
            "127.0.0.1:50000",
        )
        packages = options.view_as(SetupOptions).extra_packages
        assert packages == ([wheel_flag.partition("=")[2]] if node_id == "Transform" else None)

    # What Beam stages for Transform's job: its portable runners build the environment so.
    options = PipelineOptions(per_node["Transform"])
    environment = Environment.from_options(options.view_as(PortableOptions))
    staged: dict[str, str] = {}
    for artifact in environment.artifacts():
        assert artifact.type_urn == common_urns.artifact_types.FILE.urn
        path = beam_runner_api_pb2.ArtifactFilePayload.FromString(artifact.type_payload).path
        name = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(
            artifact.role_payload
        ).staged_name
        staged[name] = path
    wheel = Path(wheel_flag.partition("=")[2])
    assert wheel.name in staged, staged
    assert Path(staged["extra_packages.txt"]).read_text().split() == [wheel.name]

    # A worker installs the staged wheel and unpickles preprocessing_fn by reference, from a
    # folder holding none of the user's files and without this process's PYTHONPATH.
    from headrace_transform.udf import load_preprocessing_fn

    fn = load_preprocessing_fn(str(PENGUIN / "penguin_utils.py"), None)
    code = user_code_of(fn)
    assert code is not None
    # Every environment whose workers the cluster starts gets the wheel; LOOPBACK's workers
    # are threads of the submitting process.
    from headrace_core.usercode import with_user_code

    for environment, shipped in [("DOCKER", True), ("PROCESS", True), ("LOOPBACK", False)]:
        args = with_user_code(_flink_args(cluster, environment), fn)
        assert any(a.startswith("--extra_package=") for a in args) == shipped, environment
    site, empty = tmp_path / "worker-site", tmp_path / "worker-cwd"
    empty.mkdir()
    with zipfile.ZipFile(staged[wheel.name]) as z:
        z.extractall(site)
    assert (site / code.module_name / "penguin_utils.py").read_bytes() == (
        PENGUIN / "penguin_utils.py"
    ).read_bytes()
    payload = pickle.dumps(fn)
    assert code.module_name.encode() in payload  # by reference, not by value
    script = textwrap.dedent(
        """
        import pickle, sys
        fn = pickle.loads(sys.stdin.buffer.read())
        print(fn.__module__, fn.__code__.co_filename)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "HEADRACE_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=payload,
        capture_output=True,
        cwd=empty,
        env={**env, "PYTHONPATH": str(site)},
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    module, filename = done.stdout.decode().split()
    assert module == code.module_name
    assert filename == str(site / code.module_name / "penguin_utils.py")


def test_cluster_runs_a_flink_job_on_127_0_0_1(cluster: FlinkCluster, tmp_path: Path) -> None:
    cluster.wait_ready()
    overview = cluster.rest("/overview")
    assert isinstance(overview, dict)
    assert (overview["flink-version"], overview["taskmanagers"]) == ("1.18.1", 1)
    addresses = listening_addresses(cluster.processes)
    assert f"127.0.0.1:{cluster.rest_port}" in {a.removeprefix("::ffff:") for a in addresses}
    assert all(a.removeprefix("::ffff:").startswith("127.0.0.1:") for a in addresses), addresses

    assert run_sum_job(cluster, tmp_path, "headrace-sum", rows=1000) == (1000, 500500)
    jobs = cluster.rest("/jobs/overview")
    assert isinstance(jobs, dict)
    [job] = [j for j in jobs["jobs"] if j["name"] == "headrace-sum"]
    assert job["state"] == "FINISHED"
    assert job["tasks"]["finished"] == job["tasks"]["total"] >= 2  # a source and an aggregate


def _run_penguin(root: Path, beam_args: list[str]) -> Any:
    """The penguin pipeline run in this process with these Beam arguments; Beam's gRPC
    servers here (the LOOPBACK workers') bind 127.0.0.1."""
    from _beam_workers import bind_loopback

    from headrace_core.orchestration.local import LocalDagRunner

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PENGUIN_TRAIN_STEPS", "10")
        pipeline = _penguin(root, beam_args)
    with bind_loopback():
        result = LocalDagRunner(max_parallel=1).run(pipeline)
    assert result.succeeded, result.to_json()
    return result


def _published(root: Path, node: str, output: str) -> Path:
    [folder] = [p for p in (root / node / output).iterdir() if p.name.isdigit()]
    return folder


def _statistics(root: Path) -> dict[str, float]:
    """Per split: the example count and each numeric feature's mean and standard deviation."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    found: dict[str, float] = {}
    for split in sorted(_published(root, "StatisticsGen", "statistics").glob("Split-*")):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        stats.ParseFromString((split / "FeatureStats.pb").read_bytes())
        [dataset] = stats.datasets
        found[f"{split.name}/count"] = dataset.num_examples
        for feature in dataset.features:
            if feature.HasField("num_stats"):
                name = f"{split.name}/{feature.path.step[0]}"
                found[f"{name}/mean"] = feature.num_stats.mean
                found[f"{name}/std_dev"] = feature.num_stats.std_dev
    return found


def _slices(root: Path) -> list[str]:
    """The Evaluator's slices, each with its metrics' names (a model trained on another
    engine's shards may differ in its numbers, not in what was computed)."""
    metrics = json.loads((_published(root, "Evaluator", "evaluation") / "metrics.json").read_text())
    return sorted(f"{s['slice']}: {sorted(s['metrics'])}" for s in metrics["slices"])


@pytest.mark.skipif(not os.environ.get(ENV_JOB_SERVER_JAR), reason=NO_JAR)
def test_penguin_beam_components_on_flink(cluster: FlinkCluster, tmp_path: Path) -> None:
    jar = os.environ[ENV_JOB_SERVER_JAR]
    cluster.wait_ready()
    assert os.path.isfile(jar), f"{ENV_JOB_SERVER_JAR}={jar} is not a file"
    _run_penguin(tmp_path / "local", [])
    # LOOPBACK: the SDK workers are threads of this process, which the TaskManager (on this
    # machine) reaches; no SDK container or boot program is needed.
    flink_args = [
        "--runner=FlinkRunner",
        f"--flink_master={cluster.master}",
        "--flink_version=1.18",
        f"--flink_job_server_jar={jar}",
        "--parallelism=1",
        "--environment_type=LOOPBACK",
    ]
    before = cluster.rest("/jobs/overview")
    _run_penguin(tmp_path / "flink", flink_args)
    after = cluster.rest("/jobs/overview")
    assert isinstance(before, dict) and isinstance(after, dict)
    new = [j for j in after["jobs"] if j["jid"] not in {b["jid"] for b in before["jobs"]}]
    # At least one Flink job per Beam node, every one finished.
    assert len(new) >= len(BEAM_NODES), after
    assert {j["state"] for j in new} == {"FINISHED"}, new

    roots = tmp_path / "local", tmp_path / "flink"
    local_stats = _statistics(roots[0])
    assert len(local_stats) > 2
    # Sums merged in another order differ in the last bits.
    assert _statistics(roots[1]) == pytest.approx(local_stats, rel=1e-9)
    schemas = [(_published(r, "SchemaGen", "schema") / "schema.pbtxt").read_text() for r in roots]
    assert schemas[0] == schemas[1]
    metadata = [
        (
            _published(r, "Transform", "transform_graph") / "transformed_metadata" / "schema.pbtxt"
        ).read_text()
        for r in roots
    ]
    assert metadata[0] == metadata[1]
    assert _slices(roots[0]) == _slices(roots[1])
