"""The one user-code loader: fresh code after edits, functions importable by name in fresh
interpreters (as Beam workers are), wheels for remote workers, and errors that name the file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from headrace_core.usercode import (
    ENV_USER_CODE_DIR,
    UserCodeError,
    find_module_source,
    load_user_function,
    needs_extra_package,
    user_code_of,
    with_user_code,
)

MODULE = "import hrcore_uc_helper\n\n\ndef main(x):\n    return (x, hrcore_uc_helper.VALUE)\n"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Copies under this test's folder; sys.path, PYTHONPATH and helper modules restored."""
    monkeypatch.setenv(ENV_USER_CODE_DIR, str(tmp_path / "copies"))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [n for n in sys.modules if n.startswith(("hrcore_uc", "headrace_user_"))]:
        del sys.modules[name]


def _user_folder(tmp_path: Path, helper: str = "VALUE = 'old'\n") -> Path:
    folder = tmp_path / "user"
    folder.mkdir(exist_ok=True)
    (folder / "hrcore_uc_helper.py").write_text(helper)
    (folder / "hrcore_uc_module.py").write_text(MODULE)
    return folder / "hrcore_uc_module.py"


def _load(module_file: Path | str, function: str = "main") -> object:
    return load_user_function(module_file=str(module_file), function=function, component="Test")


def test_an_edited_helper_is_seen_by_the_next_load(tmp_path: Path) -> None:
    module = _user_folder(tmp_path)
    first = _load(module)
    assert first(1) == (1, "old")  # type: ignore[operator]
    assert _load(module) is first  # same content: the module already loaded
    (module.parent / "hrcore_uc_helper.py").write_text("VALUE = 'new, longer'\n")
    second = _load(module)
    assert second(2) == (2, "new, longer")  # type: ignore[operator]
    assert first(1) == (1, "old")  # type: ignore[operator]  # what ran before still runs
    code = user_code_of(second)  # type: ignore[arg-type]
    assert code is not None and code.source_file == str(module)
    assert second.__module__ == code.module_name  # type: ignore[attr-defined]
    assert sys.path[:2] == [code.folder, str(module.parent)]
    assert os.environ["PYTHONPATH"].split(os.pathsep)[:2] == [code.folder, str(module.parent)]
    assert user_code_of(first).folder not in sys.path  # type: ignore[arg-type, union-attr]
    # Importing a helper by name now finds the copy; cache keys still hash the user's file.
    assert sys.modules["hrcore_uc_helper"].__file__.startswith(code.folder)  # type: ignore[union-attr]
    helper = module.parent / "hrcore_uc_helper.py"
    assert find_module_source("hrcore_uc_helper") == str(helper)


def test_a_function_pickled_by_name_loads_in_a_fresh_interpreter(tmp_path: Path) -> None:
    module = _user_folder(tmp_path, "VALUE = 'from the copy'\n")
    fn = _load(module)
    payload = pickle.dumps(fn)  # by reference: module name and qualified name
    assert b"headrace_user_hrcore_uc_module_" in payload
    # Edited after loading: the worker must still run what was loaded (the copy).
    (module.parent / "hrcore_uc_helper.py").write_text("VALUE = 'edited later'\n")
    script = "import pickle, sys, json; print(json.dumps(pickle.loads(sys.stdin.buffer.read())(3)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=payload,
        capture_output=True,
        env=dict(os.environ),  # what a Beam worker process inherits
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout) == [3, "from the copy"]


def test_wheel_for_remote_workers(tmp_path: Path) -> None:
    fn = _load(_user_folder(tmp_path))
    local = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    assert with_user_code(local, fn) == local  # type: ignore[arg-type]
    assert not needs_extra_package(["--runner=PortableRunner", "--environment_type=LOOPBACK"])
    assert needs_extra_package(["--runner", "DataflowRunner"])
    # PROCESS workers inherit PYTHONPATH only when a job server started here starts them.
    process = ["--environment_type=PROCESS", "--environment_config={}"]
    assert not needs_extra_package(["--runner=PortableRunner", "--job_endpoint=embed", *process])
    assert not needs_extra_package(["--runner=FlinkRunner", *process])
    assert not needs_extra_package(["--runner=FlinkRunner", "--flink_master=[local]", *process])
    assert not needs_extra_package(
        ["--runner=SparkRunner", "--spark_master_url=local[2]", *process]
    )
    for elsewhere in (
        ["--runner=PortableRunner", "--job_endpoint=127.0.0.1:8099"],
        ["--runner=FlinkRunner", "--flink_master=127.0.0.1:8081"],
        ["--runner=FlinkRunner", "--flink_master", "flink:8081"],
        ["--runner=FlinkRunner", "--flink_submit_uber_jar"],
        ["--runner=SparkRunner", "--spark_master_url=spark://host:7077"],
        ["--runner=SparkRunner", "--spark_submit_uber_jar", "--spark_rest_url=http://h:6066"],
    ):
        assert needs_extra_package([*elsewhere, *process]), elsewhere
    args = with_user_code(["--runner=FlinkRunner"], fn, fn)  # type: ignore[arg-type]
    [flag] = [a for a in args if a.startswith("--extra_package=")]
    wheel = Path(flag.partition("=")[2])
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    code = user_code_of(fn)  # type: ignore[arg-type]
    assert code is not None
    assert {"hrcore_uc_helper.py", f"{code.module_name}/hrcore_uc_module.py"} <= names
    assert any(n.endswith(".dist-info/RECORD") for n in names)
    # A pure wheel installs by unpacking (what pip does on a worker; no pip in these envs).
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
        record = z.read(next(n for n in names if n.endswith("RECORD"))).decode()
    for line in record.splitlines():
        name, digest, size = line.rsplit(",", 2)
        if digest:
            data = (target / name).read_bytes()
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert (digest, int(size)) == (f"sha256={expected.decode()}", len(data))
    script = f"import {code.module_name} as m; print(m.main(4))"
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(4, 'old')"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.py"
    with pytest.raises(UserCodeError) as e:
        load_user_function(
            module_file=str(missing), function="run_fn", signature="(fn_args)", component="Test"
        )
    assert str(e.value) == (
        f"Test: module_file {missing} does not exist (it should define run_fn(fn_args))"
    )


def test_failing_import_names_the_file_and_the_line(tmp_path: Path) -> None:
    module = _user_folder(tmp_path, "VALUE = 1\nraise RuntimeError('broken helper')\n")
    with pytest.raises(UserCodeError) as e:
        _load(module)
    assert str(e.value) == (
        f"Test: module_file {module} failed to import, so main cannot be loaded: "
        "RuntimeError: broken helper"
    )
    assert e.value.__notes__[0].startswith(
        f"at {module.parent / 'hrcore_uc_helper.py'}, line 2 (run from its copy in "
    )
    assert isinstance(e.value.__cause__, RuntimeError)
    module.write_text("def main(x)\n    return x\n")
    with pytest.raises(UserCodeError, match=r"SyntaxError: expected ':' \(hrcore_uc_module\.py"):
        _load(module)


def test_missing_function_and_not_a_function(tmp_path: Path) -> None:
    module = _user_folder(tmp_path)
    with pytest.raises(UserCodeError) as e:
        _load(module, "run_fn")
    assert str(e.value) == f"Test: module_file {module} defines no function run_fn; it defines main"
    module.write_text("main = 3\n")
    with pytest.raises(UserCodeError, match=r"main in module_file .* is a int, not a function"):
        _load(module)


def test_dotted_path_and_exactly_one_source(tmp_path: Path) -> None:
    module = _user_folder(tmp_path)
    sys.path.insert(0, str(module.parent))
    fn = load_user_function(module_path="hrcore_uc_module.main", function="f", component="Test")
    assert fn(5) == (5, "old")
    assert str(module.parent) in os.environ["PYTHONPATH"].split(os.pathsep)
    assert find_module_source("hrcore_uc_helper") == str(module.parent / "hrcore_uc_helper.py")
    with pytest.raises(UserCodeError, match="module 'hrcore_uc_nothing' is not importable"):
        load_user_function(module_path="hrcore_uc_nothing.f", function="f", component="Test")
    with pytest.raises(UserCodeError, match="exactly one of module_file and f must be set"):
        load_user_function(function="f", component="Test")
