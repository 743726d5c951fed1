"""Orchestrators from plugins: ``headrace run --orchestrator`` and ``compile --target`` find
them through the registry and hand them the IR, the options and the progress callback."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hrexec_util import (
    COMPLETE,
    HELLO,
    as_json,
    by_node,
    cli_env,
    headrace,
    open_store,
    run_executions,
)

from headrace_core.plugins import ENV_DISABLE_AUTOLOAD

NODES = ["MakeNumbers", "Describe", "Train", "Evaluate", "Push"]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Installs the fixture module ``hrexec_orchestrator`` as a distribution with an entry point."""
    site = tmp_path / "site"
    info = site / "hrexec_orchestrator-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hrexec-orchestrator\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text("[headrace]\nfake = hrexec_orchestrator\n")
    return site


def _env(root: Path, site: Path) -> dict[str, str]:
    path = os.pathsep.join([str(site), cli_env()["PYTHONPATH"]])
    return {"HELLO_ROOT": str(root), "PYTHONPATH": path, ENV_DISABLE_AUTOLOAD: ""}


def test_run_on_a_plugin_orchestrator(tmp_path: Path, site: Path) -> None:
    root = tmp_path / "hello"
    env = _env(root, site)
    plugins = as_json(headrace("plugins", "--json", **env))
    names = {
        e["name"]: e["distribution"] for e in plugins["entries"] if e["kind"] == "orchestrator"
    }
    assert names == {
        "local": "headrace-core",
        "fake": "hrexec-orchestrator",
        "compile-only": "hrexec-orchestrator",
    }

    proc = headrace(
        "run",
        str(HELLO),
        "--orchestrator",
        "fake",
        "--orchestrator-arg=--a=1",
        "--beam-arg=--b=2",
        cwd=tmp_path,
        **env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "on fake" in proc.stdout.splitlines()[0]
    assert json.loads(Path(f"{root}.options.json").read_text()) == ["--a=1", "--b=2"]
    for node in NODES:
        assert re.search(rf"\] {node} +done ", proc.stdout), proc.stdout
    # The run ends with a summary: every node, then headlines from viewers that ask for them
    # (Model's here; Examples' viewer did not ask).
    summary = proc.stdout[proc.stdout.index("\nsummary:\n") :].splitlines()
    assert [line.split()[:2] for line in summary[2:7]] == [[n, "done"] for n in NODES]
    assert re.fullmatch(r"  Train +slope 3\.\d", summary[7]), summary
    assert summary[8] == ""
    run_id = proc.stdout.strip().splitlines()[-1].split()[1].rstrip(":")
    executions = by_node(run_executions(open_store(root), "hello", run_id))
    assert {n: e.last_known_state for n, e in executions.items()} == dict.fromkeys(NODES, COMPLETE)

    second = as_json(headrace("run", str(HELLO), "--orchestrator", "fake", "--json", **env))
    assert {n["status"] for n in second["nodes"].values()} == {"cached"}


def test_compile_for_a_plugin_orchestrator(tmp_path: Path, site: Path) -> None:
    env = _env(tmp_path / "hello", site)
    out = tmp_path / "out" / "dag.json"
    proc = headrace(
        "compile",
        str(HELLO),
        "--target",
        "compile-only",
        "-o",
        str(out),
        "--option",
        "flavour=x",
        **env,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"compiled 'hello' (5 nodes) for compile-only to {out}" in proc.stderr
    compiled = json.loads(out.read_text())
    assert compiled["options"] == {"flavour": "x"}
    assert compiled["tasks"][0] == {"task": "MakeNumbers", "after": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--orchestrator", "nope"], "no orchestrator 'nope' is installed"),
        (["run", "--orchestrator", "compile-only"], "has no runner; use headrace compile --target"),
        (["compile", "--target", "nope", "-o", "x"], "no orchestrator 'nope' is installed"),
        (["compile", "--target", "fake"], "--target fake writes a file: give it with -o FILE"),
        (["compile", "--target", "fake", "-o", "x", "--option", "nokey"], "expected KEY=VALUE"),
        (["compile", "--target", "fake", "-o", "x", "--option", "y=1"], "unknown option(s) y"),
        (["compile", "--option", "y=1"], "--option applies to --target"),
        (
            ["run", "--orchestrator", "fake", "--to-nodes", "Train"],
            "--to-nodes: the local orchestrator's options, not 'fake''s",
        ),
        (["run", "--orchestrator-arg", "x"], "--orchestrator-arg is for other orchestrators"),
    ],
)
def test_orchestrator_errors(tmp_path: Path, site: Path, args: list[str], message: str) -> None:
    command, *rest = args
    proc = headrace(command, str(HELLO), *rest, cwd=tmp_path, **_env(tmp_path / "hello", site))
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert not (tmp_path / "hello").exists()


def test_summary_headlines_come_from_producers_not_resolvers(tmp_path: Path, site: Path) -> None:
    pipeline_file = tmp_path / "with_resolver.py"
    pipeline_file.write_text(
        "import os\n"
        "from hrexec_components import TrainAlone\n"
        "from headrace_core import Channel, Model, Pipeline, Resolver\n"
        "train = TrainAlone(seed=3)\n"
        "latest = Resolver(model=Channel(type=Model)).with_id('latest')\n"
        "latest.add_upstream_node(train)\n"
        "pipeline = Pipeline('resolving', os.environ['HELLO_ROOT'], [train, latest])\n"
    )
    proc = headrace("run", str(pipeline_file), **_env(tmp_path / "root", site))
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout[proc.stdout.index("\nsummary:\n") :].splitlines()
    # TrainAlone's model has no "w": the viewer fails, and says so, on TrainAlone's line only.
    headlines = [line.split()[0] for line in summary[4:] if line.strip()][:-1]
    assert headlines == ["TrainAlone"], summary
