"""Development sessions. `nox` runs lint, typecheck, tests and integration; `nox -s bench` too.

Every environment is built by uv against constraints/tfx116-py311.txt, so the heavy
TensorFlow-family wheels are downloaded once per machine and linked into each environment in
seconds. Each package is tested in an environment holding only itself, its declared
dependencies and the headrace packages it depends on: a missing dependency fails its tests.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints" / "tfx116-py311.txt")
PYTHON = "3.11"
# uv writes no bytecode unless asked, and where PYTHONDONTWRITEBYTECODE is set Python caches none
# either: every process would compile the whole stack's sources again (1.7x slower runs).
INSTALL_FLAGS = ("--compile-bytecode",)


def _dev_pin(name: str) -> str:
    for line in (ROOT / "tools" / "requirements-dev.txt").read_text().splitlines():
        if line.split("==")[0].strip() == name:
            return line.strip()
    raise LookupError(f"{name} is not pinned in tools/requirements-dev.txt")


def _packages() -> dict[str, Path]:
    """Distribution name -> package directory, for every packages/*/pyproject.toml."""
    found = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
        found[name] = pyproject.parent
    return found


PACKAGES = _packages()
PACKAGE_DIRS = [p.name for p in PACKAGES.values()]


def _local_closure(directory: Path, extra: str | None = None) -> list[Path]:
    """The package and every headrace package it depends on (with ``extra``, also those its
    extra needs: a test-data library), dependencies first."""
    order: list[Path] = []

    def visit(d: Path) -> None:
        if d in order:
            return
        project = tomllib.loads((d / "pyproject.toml").read_text())["project"]
        requirements = list(project.get("dependencies", []))
        if d == directory and extra:
            requirements += project.get("optional-dependencies", {}).get(extra, [])
        for requirement in requirements:
            name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
            if name in PACKAGES:
                visit(PACKAGES[name])
        order.append(d)

    visit(directory)
    return order


def _install_packages(session: nox.Session, directory: Path, extra: str = "test") -> None:
    closure = _local_closure(directory, extra)
    args = ["-c", CONSTRAINTS]
    for d in closure:
        target = f"{d.relative_to(ROOT)}[{extra}]" if d == directory else str(d.relative_to(ROOT))
        args += ["-e", target]
    session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
    _compile_sources(session, closure)


def _compile_sources(session: nox.Session, directories: list[Path]) -> None:
    """Bytecode for editable sources, which uv leaves uncompiled (they are outside
    site-packages); a .pyc older than its source is never used, so this is always safe."""
    sources = [str(d / "src") for d in directories if (d / "src").is_dir()]
    session.run("python", "-m", "compileall", "-q", "-j0", *sources, silent=True)


def _airflow_python(session: nox.Session, major: int = 2, flavour: str = "") -> str:
    """An Airflow environment apart from headrace's (Airflow 3 and ml-metadata 1.16 cannot
    share one; the DAG files headrace writes need neither headrace nor TensorFlow). Built once
    per machine and rebuilt when its requirements file changes; ``flavour`` "-celery" is the
    one with the Celery executor (airflow2-celery-requirements.txt)."""
    name = f"airflow{major}{flavour}"
    requirements = ROOT / "packages" / "airflow" / "tests" / f"{name}-requirements.txt"
    venv = ROOT / ".nox" / f"_{name}"
    stamp = venv / ".requirements"
    wanted = requirements.read_text()
    python = venv / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        uv = shutil.which("uv", path=session.bin) or shutil.which("uv") or "uv"
        session.run_install(
            uv, "venv", "--quiet", "--clear", "--python", PYTHON, str(venv), external=True
        )
        session.run_install(
            uv,
            "pip",
            "install",
            "--quiet",
            *INSTALL_FLAGS,
            "--python",
            str(python),
            "-r",
            str(requirements),
            external=True,
        )
        stamp.write_text(wanted)
    return str(python)


nox.options.default_venv_backend = "uv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "integration",
    "compat",
    "conformance",
    "examples",
    "distributed",
    "ui",
]


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*INSTALL_FLAGS, _dev_pin("ruff"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict on the core."""
    session.install(*INSTALL_FLAGS, _dev_pin("mypy"))
    _install_packages(session, PACKAGES["headrace-core"])
    session.run("mypy", "packages/core/src")


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGE_DIRS, ids=PACKAGE_DIRS)
def tests(session: nox.Session, package: str) -> None:
    """One package's tests, in an environment with only that package and its dependencies
    (the core's execution suite twice: on SQLite, then on MariaDB)."""
    directory = ROOT / "packages" / package
    _install_packages(session, directory)
    if package == "airflow":
        session.env["HEADRACE_AIRFLOW_PYTHON"] = _airflow_python(session)
    session.run("pytest", str(directory / "tests"), *session.posargs)
    if package == "core":
        # The metadata layer, the runtime and the inspection commands again, on MariaDB.
        _on_mariadb(session, str(directory / "tests" / "execution"), *session.posargs)


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Cross-package tests, with the fixture plugins installed as a third party would; the
    repository's tools (tools/tests: the release tool)."""
    _install_packages(session, PACKAGES["headrace-core"])
    plugins = sorted(
        str(p.parent) for p in (ROOT / "integration_tests" / "plugins").glob("*/pyproject.toml")
    )
    session.install(*INSTALL_FLAGS, "-c", CONSTRAINTS, *plugins)
    session.run(
        "pytest",
        "integration_tests",
        "tools/tests",
        "--ignore=integration_tests/ml",
        "--ignore=integration_tests/conformance",
        "--ignore=integration_tests/distributed",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """One IR, five ways of running it (local in-process and subprocess, Beam, Airflow, KFP):
    the same metadata. Here every orchestrator is installed, so none may skip."""
    names = ("headrace-core", "headrace-beam", "headrace-airflow", "headrace-kubeflow")
    args = ["-c", CONSTRAINTS]
    for name in names:
        args += ["-e", str(PACKAGES[name].relative_to(ROOT))]
    session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
    _compile_sources(session, [PACKAGES[name] for name in names])
    session.env["HEADRACE_AIRFLOW_PYTHON"] = _airflow_python(session)
    session.env["HEADRACE_CONFORMANCE_REQUIRE_ALL"] = "1"
    session.run("pytest", "integration_tests/conformance", *session.posargs)
    # The local ways again on MariaDB (the reference runs stay on SQLite: one store must
    # record what the other does).
    _on_mariadb(session, "integration_tests/conformance", "-k", "local", *session.posargs)
    # Airflow 3 too: the same DAG file, in an environment that could never hold headrace.
    session.env["HEADRACE_AIRFLOW_PYTHON"] = _airflow_python(session, 3)
    session.run("pytest", "integration_tests/conformance", "-k", "airflow", *session.posargs)


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """The ML example pipelines end to end, with every component package installed; penguin
    also on the Beam runner (through Airflow: the distributed session)."""
    args = ["-c", CONSTRAINTS]
    for directory in PACKAGES.values():
        args += ["-e", str(directory.relative_to(ROOT))]
    session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
    _compile_sources(session, list(PACKAGES.values()))
    session.run("pytest", "integration_tests/ml", *session.posargs)


@nox.session(python=PYTHON)
def ui(session: nox.Session) -> None:
    """headrace ui in a real browser: Debian's chromium driven by Playwright over real penguin
    runs (every component package installed, so the components' views render). Screenshots
    of each page go to build/ui-screenshots/."""
    args = ["-c", CONSTRAINTS]
    for directory in PACKAGES.values():
        target = f"{directory.relative_to(ROOT)}[browser]" if directory.name == "ui" else ""
        args += ["-e", target or str(directory.relative_to(ROOT))]
    session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
    _compile_sources(session, list(PACKAGES.values()))
    session.run("pytest", "packages/ui/browser_tests", *session.posargs)


@nox.session(python=PYTHON)
def distributed(session: nox.Session) -> None:
    """Scale-out on real engines, every server on 127.0.0.1 and stopped at the end: Beam work
    on the multi-process DirectRunner and in external SDK worker pools started from an empty
    folder; nodes on Celery workers through Airflow; a local Flink cluster."""
    args = ["-c", CONSTRAINTS]
    for directory in PACKAGES.values():
        args += ["-e", str(directory.relative_to(ROOT))]
    session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
    _compile_sources(session, list(PACKAGES.values()))
    session.env["HEADRACE_AIRFLOW_CELERY_PYTHON"] = _airflow_python(session, 2, "-celery")
    session.run("pytest", "-rs", "integration_tests/distributed", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks; figures are printed side by side and written to bench-results/.

    Every package under packages/ is installed (one resolution), so the ``data`` group can run
    CsvExampleGen and StatisticsGen."""
    args = ["-c", CONSTRAINTS]
    for directory in PACKAGES.values():
        args += ["-e", str(directory.relative_to(ROOT))]
    session.install(*INSTALL_FLAGS, *args)
    _compile_sources(session, list(PACKAGES.values()))
    if not session.posargs or "orchestrators" in session.posargs:
        session.env["HEADRACE_AIRFLOW_PYTHON"] = _airflow_python(session)
    if not session.posargs or "celery" in session.posargs:
        session.env["HEADRACE_AIRFLOW_CELERY_PYTHON"] = _airflow_python(session, 2, "-celery")
    session.run("python", "tools/bench/run.py", *session.posargs)


def _on_mariadb(session: nox.Session, *args: str) -> None:
    """pytest ARGS with every test on a fresh MariaDB database (headrace_core.testing's
    ``--metadata-backend``). The server is ``HEADRACE_TEST_MYSQL``, which nox passes through
    from tools/test (it starts a throw-away one); without it the tests skip, saying so, or
    fail where CI is set."""
    if not os.environ.get("HEADRACE_TEST_MYSQL"):
        session.warn(
            "HEADRACE_TEST_MYSQL is not set: the MariaDB run skips (tools/test starts a "
            "server where mariadb-server is installed)"
        )
    session.run("pytest", "--metadata-backend=mariadb", "-rs", *args)


# Compatibility with the oldest core ----------------------------------------------------------

# Each package's contract tests: its plugin registers, its components build and compile, and
# check_distribution passes. Quick, and what an older core would break first.
COMPAT_TESTS = ("test_plugin.py", "test_component.py")


def _release_key(version: str) -> tuple[int, ...]:
    numbers = tuple(int(n) for n in version.split("."))
    return numbers + (0,) * (3 - len(numbers))


def _core_lower_bound(directory: Path) -> str | None:
    """The oldest headrace-core a package claims to work with (its ``>=``, ``~=`` or ``==``
    clause); None if it does not depend on the core."""
    project = tomllib.loads((directory / "pyproject.toml").read_text())["project"]
    for requirement in project.get("dependencies", []):
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        if name != "headrace-core":
            continue
        specifier = re.sub(r"\[[^\]]*\]", "", requirement[len(name) :].split(";")[0])
        for clause in specifier.strip().strip("()").split(","):
            m = re.fullmatch(r"\s*(>=|~=|==)\s*([0-9]+(?:\.[0-9]+)*)\s*", clause)
            if m:
                return m.group(2)
        raise ValueError(
            f"{directory / 'pyproject.toml'}: {requirement!r} has no lower bound; "
            "say which core it needs (>=X.Y)"
        )
    return None


def _core_source(session: nox.Session, lower: str, current: str, names: list[str]) -> Path:
    """headrace-core at ``lower``: from its release tag, or this tree if it is that version."""
    import subprocess

    padded = ".".join(str(n) for n in _release_key(lower))
    for tag in dict.fromkeys([f"headrace-core-v{lower}", f"headrace-core-v{padded}"]):
        found = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", f"refs/tags/{tag}"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        if found.returncode == 0:
            target = Path(session.create_tmp()) / tag
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            archive = subprocess.run(
                ["git", "archive", "--format=tar", tag, "packages/core"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
            session.log(f"headrace-core {lower}: built from tag {tag}")
            return target / "packages" / "core"
    if _release_key(lower) == _release_key(current):
        session.log(
            f"headrace-core {lower}: no tag headrace-core-v{padded}; the lower bound is the "
            f"current core version ({current}), so testing against this tree's core"
        )
        return PACKAGES["headrace-core"]
    session.error(
        f"{', '.join(names)} claim headrace-core >= {lower}, but there is no tag "
        f"headrace-core-v{padded} "
        f"and this tree's core is {current}: create the tag from that release's commit, or "
        "raise the lower bound to a core that is tagged"
    )
    raise AssertionError("unreachable")


@nox.session(python=PYTHON)
def compat(session: nox.Session) -> None:
    """Each component package's contract tests against the OLDEST headrace-core its
    pyproject admits (docs/releasing.md). Packages sharing a lower bound share one install
    and one pytest process, so the TensorFlow stack is imported once."""
    about = (PACKAGES["headrace-core"] / "src" / "headrace_core" / "__about__.py").read_text()
    found = re.search(r'__version__\s*=\s*"([^"]+)"', about)
    if found is None:
        session.error("packages/core/src/headrace_core/__about__.py: no __version__")
    current = found.group(1)
    groups: dict[str, list[Path]] = {}
    for name, directory in PACKAGES.items():
        lower = None if name == "headrace-core" else _core_lower_bound(directory)
        if lower is not None:
            groups.setdefault(lower, []).append(directory)
    for lower in sorted(groups, key=_release_key):
        directories = groups[lower]
        core = _core_source(session, lower, current, [d.name for d in directories])
        args = ["-c", CONSTRAINTS, "--reinstall-package", "headrace-core", str(core)]
        local = {d for directory in directories for d in _local_closure(directory, "test")}
        for d in sorted(local - {PACKAGES["headrace-core"]}):
            extra = "[test]" if d in directories else ""
            args += ["-e", f"{d.relative_to(ROOT)}{extra}"]
        session.install(*INSTALL_FLAGS, *args, _dev_pin("pytest"))
        _compile_sources(session, sorted(local - {PACKAGES["headrace-core"]}))
        session.run(
            "python",
            "-c",
            "import importlib.metadata as m; print('headrace-core', m.version('headrace-core'),"
            " 'installed')",
        )
        found_tests = {d: [d / "tests" / t for t in COMPAT_TESTS] for d in directories}
        tests = [str(t) for paths in found_tests.values() for t in paths if t.exists()]
        untested = [
            d.name for d, paths in found_tests.items() if not any(t.exists() for t in paths)
        ]
        if untested:
            session.log(f"no {' or '.join(COMPAT_TESTS)} in: {', '.join(untested)}")
        session.run("pytest", "-q", "-p", "no:cacheprovider", *tests, *session.posargs)
