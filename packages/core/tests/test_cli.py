"""The ``headrace`` command: plugins, compile, and one-line errors for bad pipeline files."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from headrace_core import __version__, ir
from headrace_core.cli import main
from headrace_core.plugins import ENV_DISABLE_AUTOLOAD

RunCli = Callable[..., subprocess.CompletedProcess[str]]
FULL_PIPELINE = Path(__file__).parent / "fixtures" / "hrcore_pipeline.py"

SMALL_PIPELINE = """
from hrcore_components import ExampleGen, StatisticsGen

from headrace_core import Pipeline

gen = ExampleGen(input_base="/data")
stats = StatisticsGen(examples=gen.outputs["examples"])
pipeline = Pipeline(pipeline_name="small", pipeline_root="/root", components=[stats, gen])
"""


def _write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("headrace: error: "), stderr
    return lines[0]


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    """A directory on which importlib.metadata finds two installed plugin distributions."""
    site = tmp_path / "site"
    site.mkdir()
    _write(
        site,
        "hrcore_fake_plugin.py",
        """
        from headrace_core import Artifact
        from headrace_core.plugins import hookimpl


        class Gadget(Artifact):
            TYPE_NAME = "HrcoreGadget"


        @hookimpl
        def headrace_register_artifact_types(registry):
            registry.add(Gadget)


        @hookimpl
        def headrace_register_orchestrators(registry):
            registry.add("hrcore-fake", runner="hrcore_fake_plugin:Runner")
        """,
    )
    _write(site, "hrcore_broken_fake.py", 'raise RuntimeError("broken on purpose")\n')
    for dist, version, module, name in [
        ("hrcore-fake-plugin", "1.4.0", "hrcore_fake_plugin", "fake"),
        ("hrcore-broken-fake", "0.1", "hrcore_broken_fake", "brokenfake"),
    ]:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[headrace]\n{name} = {module}\n")
    return site


# plugins ---------------------------------------------------------------------------------


def test_plugins_table(run_cli: RunCli) -> None:
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "DISTRIBUTION", "VERSION"]
    assert ["artifact", "type", "Examples", "headrace-core", __version__] in [
        line.split() for line in lines[1:]
    ]
    assert len(lines) == 1 + 22 + 1
    assert lines[-1].split() == ["orchestrator", "local", "headrace-core", __version__]


def test_plugins_json(run_cli: RunCli) -> None:
    result = run_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    entries = data["entries"]
    assert len(entries) == 23
    for entry in entries:
        assert {"name", "kind", "distribution", "version"} <= set(entry)
        assert entry["kind"] == ("orchestrator" if entry["name"] == "local" else "artifact_type")
        assert entry["distribution"] == "headrace-core"
        assert entry["version"] == __version__
    assert {e["name"] for e in entries} >= {"Examples", "Model", "JsonValue"}
    assert data["errors"] == []
    assert data["plugins"] == [
        {
            "name": "headrace-core",
            "distribution": "headrace-core",
            "version": __version__,
            "hooks": ["headrace_register_artifact_types", "headrace_register_orchestrators"],
            "builtin": True,
        }
    ]


def test_plugins_lists_installed_distributions_and_their_errors(
    run_cli: RunCli, fake_site: Path
) -> None:
    result = run_cli("plugins", "--json", PYTHONPATH=str(fake_site), **{ENV_DISABLE_AUTOLOAD: ""})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {(e["kind"], e["name"]): e for e in data["entries"]}
    assert rows["artifact_type", "HrcoreGadget"]["distribution"] == "hrcore-fake-plugin"
    assert rows["artifact_type", "HrcoreGadget"]["version"] == "1.4.0"
    assert rows["orchestrator", "hrcore-fake"]["distribution"] == "hrcore-fake-plugin"
    assert rows["artifact_type", "Examples"]["distribution"] == "headrace-core"
    (error,) = data["errors"]
    assert error["distribution"] == "hrcore-broken-fake"
    assert error["stage"] == "import"
    assert "RuntimeError: broken on purpose" in error["error"]
    assert (
        "headrace: plugin load error: plugin 'brokenfake' from distribution "
        "'hrcore-broken-fake' failed to import: RuntimeError: broken on purpose"
    ) in result.stderr

    strict = run_cli("plugins", "--strict", PYTHONPATH=str(fake_site), **{ENV_DISABLE_AUTOLOAD: ""})
    assert strict.returncode == 1
    assert "hrcore-fake-plugin" in strict.stdout

    only = run_cli(
        "plugins",
        "--strict",
        PYTHONPATH=str(fake_site),
        HEADRACE_PLUGINS="hrcore-fake-plugin",
        **{ENV_DISABLE_AUTOLOAD: ""},
    )
    assert only.returncode == 0, only.stderr
    assert "HrcoreGadget" in only.stdout
    assert "broken" not in only.stderr

    disabled = run_cli("plugins", "--strict", PYTHONPATH=str(fake_site))
    assert disabled.returncode == 0
    assert "HrcoreGadget" not in disabled.stdout


def test_plugins_in_process(
    capsys: pytest.CaptureFixture[str],
    fake_site: Path,
    monkeypatch: pytest.MonkeyPatch,
    forget_new_modules: None,
) -> None:
    monkeypatch.syspath_prepend(str(fake_site))
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "0")
    monkeypatch.setenv("HEADRACE_PLUGINS", "fake")
    assert main(["plugins", "--json"]) == 0
    out = capsys.readouterr().out
    names = {e["name"]: e for e in json.loads(out)["entries"]}
    assert names["HrcoreGadget"]["distribution"] == "hrcore-fake-plugin"
    assert names["HrcoreGadget"]["version"] == "1.4.0"


# compile -----------------------------------------------------------------------------------


def test_compile_to_a_file_with_validation(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "dir" / "ir.json"
    result = run_cli("compile", str(FULL_PIPELINE), "-o", str(out), "--validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == f"compiled 'hrcore-full' (14 nodes) for ir to {out}"
    document = json.loads(out.read_text())
    ir.validate(document)
    assert document["pipeline"]["name"] == "hrcore-full"
    assert [p.name for p in out.parent.iterdir()] == ["ir.json"]  # no temporary file left


def test_compile_to_stdout_in_process(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, forget_new_modules: None
) -> None:
    path = _write(tmp_path, "small_pipeline.py", SMALL_PIPELINE)
    assert main(["compile", str(path), "--validate"]) == 0
    captured = capsys.readouterr()
    document = ir.loads(captured.out)
    assert [n["id"] for n in document["nodes"]] == ["ExampleGen", "StatisticsGen"]
    assert captured.out == ir.dumps(document)
    assert captured.err == ""
    assert main(["compile", str(path), "-o", "-"]) == 0
    assert capsys.readouterr().out == captured.out


def test_compile_create_pipeline_variant(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, forget_new_modules: None
) -> None:
    path = _write(
        tmp_path,
        "factory_pipeline.py",
        """
        from hrcore_components import ExampleGen

        from headrace_core import Pipeline


        def create_pipeline():
            return Pipeline("from-factory", "/root", [ExampleGen(input_base="/d")])
        """,
    )
    out = tmp_path / "out.json"
    assert main(["compile", str(path), "-o", str(out)]) == 0
    assert "compiled 'from-factory' (1 nodes)" in capsys.readouterr().err
    assert json.loads(out.read_text())["pipeline"]["name"] == "from-factory"


def test_compile_create_pipeline_variant_in_a_subprocess(run_cli: RunCli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "factory.py",
        """
        from hrcore_components import ExampleGen

        from headrace_core import Pipeline


        def create_pipeline():
            return Pipeline("from-factory", "/root", [ExampleGen(input_base="/d")])
        """,
    )
    result = run_cli("compile", str(path), "--validate")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["nodes"][0]["id"] == "ExampleGen"


# Pipeline files that fail: one line on stderr, non-zero exit -----------------------------------

BAD_FILES: list[tuple[str, str, str]] = [
    (
        "nothing.py",
        "x = 1\n",
        "defines neither a module-level `pipeline` nor a `create_pipeline()` function",
    ),
    (
        "raises.py",
        """
        import os

        value = os.environ["HEADRACE_SURELY_UNSET_VARIABLE"]
        """,
        "raised on import: KeyError: 'HEADRACE_SURELY_UNSET_VARIABLE' (line 3)",
    ),
    (
        "syntax.py",
        "pipeline = (\n",
        "raised on import: SyntaxError: '(' was never closed (line 1)",
    ),
    (
        "not_a_pipeline.py",
        "pipeline = {'name': 'p'}\n",
        "`pipeline` is a dict, not a Pipeline",
    ),
    (
        "factory_returns_list.py",
        "def create_pipeline():\n    return []\n",
        "create_pipeline() returned a list, not a Pipeline",
    ),
    (
        "factory_raises.py",
        """
        def create_pipeline():
            raise ValueError("no data source configured")
        """,
        "create_pipeline() raised ValueError: no data source configured (line 2)",
    ),
    ("factory_not_callable.py", "create_pipeline = 3\n", "create_pipeline is not a function"),
    (
        "bad_component.py",
        """
        from hrcore_components import ExampleGen

        gen = ExampleGen(input_bas="/data")
        """,
        "ExampleGen: unknown argument 'input_bas' (did you mean 'input_base'?)",
    ),
    (
        "bad_graph.py",
        """
        from hrcore_components import ExampleGen, StatisticsGen

        from headrace_core import Pipeline


        def create_pipeline():
            gen = ExampleGen(input_base="/data")
            stats = StatisticsGen(examples=gen.outputs["examples"])
            return Pipeline("p", "/root", [stats])
        """,
        "create_pipeline(): pipeline 'p': node 'StatisticsGen' input 'examples' reads",
    ),
    (
        "local_class.py",
        """
        from headrace_core import BaseComponent, ChannelParameter, ComponentSpec, Model, Pipeline


        def create_pipeline():
            class LocalSpec(ComponentSpec):
                OUTPUTS = {"model": ChannelParameter(type=Model)}

            class Local(BaseComponent):
                SPEC_CLASS = LocalSpec
                EXECUTOR_SPEC = "pkg.module:Executor"

            return Pipeline("p", "/root", [Local()])
        """,
        "node 'Local': ",
    ),
]


@pytest.mark.parametrize(
    ("name", "source", "expected"), BAD_FILES, ids=[b[0].removesuffix(".py") for b in BAD_FILES]
)
def test_bad_pipeline_files_in_process(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    forget_new_modules: None,
    name: str,
    source: str,
    expected: str,
) -> None:
    path = _write(tmp_path, name, source)
    code = main(["compile", str(path), "-o", str(tmp_path / "out.json")])
    captured = capsys.readouterr()
    assert code != 0
    line = _one_error_line(captured.err)
    assert expected in line
    if name != "local_class.py":
        assert str(path) in line
    assert captured.out == ""
    assert not (tmp_path / "out.json").exists()


def test_missing_pipeline_file(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    result = run_cli("compile", str(missing))
    assert result.returncode != 0
    assert _one_error_line(result.stderr) == (f"headrace: error: {missing}: no such pipeline file")
    assert result.stdout == ""


def test_directory_as_pipeline_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["compile", str(tmp_path)]) != 0
    assert _one_error_line(capsys.readouterr().err).endswith(f"{tmp_path}: not a file")


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [BAD_FILES[0], BAD_FILES[1], BAD_FILES[3]],
    ids=["nothing", "raises", "not_a_pipeline"],
)
def test_bad_pipeline_files_in_a_subprocess(
    run_cli: RunCli, tmp_path: Path, name: str, source: str, expected: str
) -> None:
    path = _write(tmp_path, name, source)
    result = run_cli("compile", str(path))
    assert result.returncode == 1
    line = _one_error_line(result.stderr)
    assert expected in line
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_pipeline_file_named_like_a_stdlib_module(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, forget_new_modules: None
) -> None:
    path = _write(tmp_path, "json.py", SMALL_PIPELINE)
    assert main(["compile", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["pipeline"]["name"] == "small"
    assert json.dumps([1]) == "[1]"  # the real json module is untouched


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["compile"])
    assert info.value.code == 2
    assert "PIPELINE_FILE" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"headrace-core {__version__}"


def test_tfx_command_needs_headrace_tfx(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("headrace_tfx") is not None:
        pytest.skip("headrace-tfx is installed here; its own tests cover `headrace tfx`")
    assert main(["tfx", "run", "pipeline.py"]) == 1
    assert capsys.readouterr().err == (
        "headrace: error: headrace tfx runs TFX pipeline files with headrace-tfx, which is not "
        "installed: pip install headrace-tfx\n"
    )


def test_a_file_that_runs_its_pipeline_in_main(run_cli: RunCli, tmp_path: Path) -> None:
    """TFX's examples define no create_pipeline(): they run theirs in __main__. compile and
    run take the pipeline handed to the runner, which does not run."""
    path = tmp_path / "scripted.py"
    path.write_text(
        textwrap.dedent(
            """
            import sys
            from hrcore_components import ExampleGen
            from headrace_core import Pipeline
            from headrace_core.orchestration.local import run_in_console

            def _create(root):
                return Pipeline("scripted", root, [ExampleGen(input_base="/d")])

            import json as pipeline  # a module called `pipeline` is not the pipeline

            if __name__ == "__main__":
                assert sys.argv[1:] == [], sys.argv  # run with no arguments of its own
                run_in_console(_create("/root"))
                raise SystemExit("not reached: the run is captured")
            """
        )
    )
    result = run_cli("compile", str(path))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pipeline"]["name"] == "scripted"
    assert [n["id"] for n in document["nodes"]] == ["ExampleGen"]
    # The runner's own run() is captured too: compiling never runs the pipeline.
    path.write_text(
        path.read_text()
        .replace(
            'run_in_console(_create("/root"))',
            'LocalDagRunner().run(_create("/root"))',
        )
        .replace("import run_in_console", "import LocalDagRunner")
    )
    assert "LocalDagRunner().run(" in path.read_text()
    result = run_cli("compile", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pipeline"]["name"] == "scripted"
    # TFX's penguin example names it create_pipeline(pipeline_name, pipeline_root, ...): a
    # factory that needs arguments is the file's own business, called from its __main__.
    path.write_text(path.read_text().replace("_create(", "create_pipeline("))
    result = run_cli("compile", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pipeline"]["name"] == "scripted"
