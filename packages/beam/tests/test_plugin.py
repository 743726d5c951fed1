"""The plugin: registered as orchestrator ``beam``, light to load, conformant; options are
checked before anything runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hrbeam_util import FIXTURES, HELLO, headrace, run_json

import headrace_beam
from headrace_beam import BeamDagRunner
from headrace_beam.runner import split_options
from headrace_core import HeadraceError
from headrace_core.plugins import get_plugin_manager
from headrace_core.testing import check_distribution, imported_heavy_modules


def test_headrace_plugins_lists_the_beam_orchestrator() -> None:
    listed = run_json(headrace("plugins", "--json"))
    (entry,) = [e for e in listed["entries"] if e["kind"] == "orchestrator" and e["name"] == "beam"]
    assert entry["distribution"] == "headrace-beam"
    assert entry["version"] == headrace_beam.__version__


def test_registry_entry_names_the_runner() -> None:
    registry = get_plugin_manager().orchestrators
    spec = registry.get("beam")
    assert spec.runner == "headrace_beam.runner:BeamDagRunner"
    assert spec.compiler is None
    assert registry.entry("beam").provenance.distribution == "headrace-beam"


def test_check_distribution() -> None:
    assert check_distribution("headrace-beam") == ["beam"]
    manager = get_plugin_manager()
    assert [e for e in manager.errors if e.distribution == "headrace-beam"] == []
    # Loading the plugins and importing the package imports no Beam: a run does.
    assert imported_heavy_modules(["headrace_beam", "headrace_beam.plugin"]) == []


def test_a_run_imports_beam_but_never_tensorflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])
    )
    code = (
        "from hrbeam_pipelines import nested_beam\n"
        "from headrace_beam import BeamDagRunner\n"
        f"result = BeamDagRunner(isolation='in-process').run(nested_beam({str(tmp_path)!r}))\n"
        "assert result.succeeded, result.to_json()\n"
    )
    assert imported_heavy_modules(code=code) == ["apache_beam"]


def test_split_options() -> None:
    own, beam_args = split_options(
        ["--runner=PortableRunner", "--headrace_isolation", "in-process", "--job_endpoint=embed"]
    )
    assert own == {"headrace_isolation": "in-process"}
    assert beam_args == ["--runner=PortableRunner", "--job_endpoint=embed"]
    assert BeamDagRunner(options=["--headrace_isolation=in-process"]).isolation == "in-process"
    assert BeamDagRunner().isolation == "subprocess"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--headrace_isolation=threads"],
            "--headrace_isolation=threads: expected one of subprocess, in-process",
        ),
        (["--headrace_isolation"], "Beam runner option --headrace_isolation needs a value"),
        (
            ["--headrace_parallel=2"],
            "unknown Beam runner option --headrace_parallel; known: --headrace_isolation",
        ),
        (["--runer=PortableRunner"], "unknown Beam pipeline option(s) --runer=PortableRunner"),
        (
            ["--direct_num_workers=two"],
            "bad Beam pipeline option: argument --direct_num_workers: invalid int value: 'two'",
        ),
        (["--runner=NoSuchRunner"], "Beam option --runner=NoSuchRunner: Unexpected pipeline"),
    ],
)
def test_bad_options_are_refused(options: list[str], message: str) -> None:
    with pytest.raises(HeadraceError) as raised:
        BeamDagRunner(options=options)
    assert message in str(raised.value)


def test_bad_options_through_the_cli_create_nothing(tmp_path: Path) -> None:
    root = tmp_path / "hello"
    proc = headrace(
        "run",
        str(HELLO),
        "--orchestrator",
        "beam",
        "--beam-arg=--runer=DirectRunner",
        cwd=tmp_path,
        HELLO_ROOT=str(root),
    )
    assert proc.returncode == 1
    assert "headrace: error: unknown Beam pipeline option(s) --runer=DirectRunner" in proc.stderr
    assert not root.exists()


def test_ir_nodes_out_of_order_are_refused(tmp_path: Path) -> None:
    document = {
        "pipeline": {"name": "p", "root": str(tmp_path / "root")},
        "nodes": [
            {"id": "B", "upstream": ["A"], "downstream": []},
            {"id": "A", "upstream": [], "downstream": ["B"]},
        ],
    }
    with pytest.raises(HeadraceError, match="IR node 'B': upstream node 'A' is not listed"):
        BeamDagRunner().run(document)
    assert not (tmp_path / "root").exists()
