"""A MySQL password never leaks: planted in URLs against the real MariaDB server, it must not
appear in anything headrace prints, writes, or puts on a command line.

Needs ``HEADRACE_TEST_MYSQL`` (e.g. ``mysql://root@127.0.0.1:33061``, a user that may create
users) and the ``mariadb`` client; skipped with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hrexec_util import FIXTURES, HELLO, as_json, headrace, ok

from headrace_core.testing import mysql_required, mysql_unavailable

SERVER = os.environ.get("HEADRACE_TEST_MYSQL", "").strip()

pytestmark = [
    pytest.mark.own_stores,  # a MariaDB user and database of its own, in the SQLite pass only
    pytest.mark.skipif(
        mysql_unavailable() is not None and not mysql_required(),
        reason=mysql_unavailable() or "",
    ),
    pytest.mark.skipif(
        not shutil.which("mariadb"), reason="the mariadb client is needed to create a user"
    ),
]

# A pipeline file that takes its store from the environment, so that the file itself holds
# no secret and the password reaches headrace only as the DSL's metadata_connection_config.
WITH_CONFIG = f"""
import importlib.util, os, sys
sys.path.insert(0, {str(HELLO.parent)!r})
spec = importlib.util.spec_from_file_location("hello_pipeline", {str(HELLO)!r})
hello = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hello)


def create_pipeline():
    p = hello.create_pipeline()
    p.metadata_connection_config = None
    from headrace_core import Pipeline
    return Pipeline(
        pipeline_name="hello",
        pipeline_root=p.pipeline_root,
        components=list(p.components),
        metadata_connection_config=os.environ["SECRET_METADATA"],
    )
"""


def _mariadb(sql: str) -> None:
    server = urllib.parse.urlsplit(SERVER)
    command = ["mariadb", f"-h{server.hostname}", f"-P{server.port or 3306}"]
    command += [f"-u{urllib.parse.unquote(server.username or 'root')}"]
    if server.password:
        command.append(f"-p{urllib.parse.unquote(server.password)}")
    subprocess.run([*command, "-e", sql], check=True, capture_output=True, timeout=60)


class Leaks:
    """Everything a command printed, every command line seen, and the folders to search."""

    def __init__(self, secrets: list[str], folders: list[Path]) -> None:
        self.secrets = secrets
        self.folders = folders
        self.texts: list[tuple[str, str]] = []
        self.cmdlines: set[str] = set()

    def run(self, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        proc = headrace(*args, cwd=cwd, **env)
        self.texts.append((f"stdout of {args}", proc.stdout))
        self.texts.append((f"stderr of {args}", proc.stderr))
        return proc

    @contextlib.contextmanager
    def watching_argv(self) -> Iterator[None]:
        """Read every process's command line while the block runs (what ``ps`` shows)."""
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                for entry in os.scandir("/proc"):
                    if entry.name.isdigit():
                        try:
                            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                                line = f.read().replace(b"\0", b" ").decode(errors="replace")
                        except OSError:
                            continue
                        self.cmdlines.add(line)
                stop.wait(0.005)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def check(self) -> None:
        forms = {
            form
            for s in self.secrets
            for form in (s, urllib.parse.quote(s, safe=""), s.encode().hex())
        }
        hits = [
            f"{where}: {form}"
            for where, text in [*self.texts, *(("argv", c) for c in self.cmdlines)]
            for form in forms
            if form in text
        ]
        files = 0
        for folder in self.folders:
            for path in folder.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    files += 1
                    data = path.read_bytes()
                    hits += [f"{path}: {form}" for form in forms if form.encode() in data]
        assert files or not self.folders, "nothing was written to search"
        assert not hits, "the password leaked:\n" + "\n".join(hits)


@pytest.fixture
def account() -> Iterator[tuple[str, str, str]]:
    """A fresh MySQL user with a unique password: (user, password, URL of the server as it)."""
    tag = uuid.uuid4().hex[:10]
    user, password = f"hr_secret_{tag}", f"Pw{uuid.uuid4().hex}Zq"
    _mariadb(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    _mariadb(f"GRANT ALL ON `hrsec_{tag}%`.* TO '{user}'@'%'")
    server = urllib.parse.urlsplit(SERVER)
    base = f"mysql://{user}:{password}@{server.hostname}:{server.port or 3306}/hrsec_{tag}"
    try:
        yield user, password, base
    finally:
        _mariadb(f"DROP USER IF EXISTS '{user}'@'%'")
        _mariadb(f"DROP DATABASE IF EXISTS `hrsec_{tag}`")
        _mariadb(f"DROP DATABASE IF EXISTS `hrsec_{tag}_cfg`")


def test_a_planted_password_appears_nowhere(tmp_path: Path, account: tuple[str, str, str]) -> None:
    _user, password, url = account
    wrong = f"Wrong{uuid.uuid4().hex}"
    bad_url = url.replace(f":{password}@", f":{wrong}@")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    leaks = Leaks([password, wrong], [tmp_path])
    root = tmp_path / "hello"
    env = {"HELLO_ROOT": str(root), "TMPDIR": str(tmp)}

    # In process, --metadata, --json: redacted, never the password.
    first = as_json(leaks.run("run", str(HELLO), "--metadata", url, "--json", cwd=tmp_path, **env))
    assert first["succeeded"]
    assert first["metadata"] == url.replace(f":{password}@", ":***@")
    banner = ok(leaks.run("run", str(HELLO), "--metadata", url, cwd=tmp_path, **env)).stdout
    assert f"metadata in {first['metadata']}" in banner

    # Node processes: the password in their environment, not on their command line.
    with leaks.watching_argv():
        isolated = leaks.run(
            "run", str(HELLO), "--isolation", "subprocess", "--json", cwd=tmp_path,
            HEADRACE_METADATA=url, HELLO_COUNT="61", **env,
        )  # fmt: skip
    assert as_json(isolated)["succeeded"]
    # Others' processes on this machine are read too (the password is unique); these are ours.
    launched = [c for c in leaks.cmdlines if "headrace_core.launch" in c and str(root) in c]
    assert launched, "no node process was seen: the argv check checked nothing"
    stripped = url.replace(f":{password}@", "@")
    assert all(stripped in c for c in launched), "\n".join(launched)

    # Inspection commands, with the URL given both ways.
    run_id = first["run_id"]
    for args in (
        ("runs", "list"),
        ("runs", "show", run_id),
        ("runs", "show", run_id, "--json"),
        ("artifacts", "list"),
        ("artifacts", "list", "--json"),
        ("lineage", "1"),
        ("cache", "why", str(HELLO), "Train"),
    ):
        ok(leaks.run(*args, "--metadata", url, cwd=tmp_path, **env))
        ok(leaks.run(*args, cwd=tmp_path, HEADRACE_METADATA=url, **env))
    missing = leaks.run("runs", "show", "no-such-run", "--metadata", url, cwd=tmp_path, **env)
    assert missing.returncode != 0 and ":***@" in missing.stderr, missing.stderr

    # A failing run prints its hint with the URL redacted.
    fail_file = tmp_path / "fail-now"
    fail_file.write_text("x")
    failing = leaks.run(
        "run", str(FIXTURES / "pipe_failing.py"), "--pipeline-root", str(tmp_path / "failing"),
        "--metadata", url, "--isolation", "subprocess", cwd=tmp_path,
        HREXEC_FAIL_FILE=str(fail_file), **env,
    )  # fmt: skip
    assert failing.returncode == 1, failing.stderr
    assert "--metadata " + first["metadata"] in failing.stderr

    # A wrong password and a database the user may not create fail cleanly, redacted.
    denied = leaks.run("run", str(HELLO), "--metadata", bad_url, cwd=tmp_path, **env)
    assert denied.returncode != 0 and "Traceback" not in denied.stderr, denied.stderr
    assert ":***@" in denied.stderr, denied.stderr
    other = url.rsplit("/", 1)[0] + "/not_granted_" + uuid.uuid4().hex[:6]
    refused = leaks.run("runs", "list", "--metadata", other, cwd=tmp_path, **env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr

    # The pipeline's own metadata_connection_config: compiled and written without it, and
    # still the store this process and its node processes connect to.
    pipeline_file = tmp_path / "with_config.py"
    pipeline_file.write_text(WITH_CONFIG)
    cfg = {"SECRET_METADATA": url + "_cfg", "HELLO_ROOT": str(tmp_path / "cfg"), "TMPDIR": str(tmp)}
    compiled = ok(leaks.run("compile", str(pipeline_file), cwd=tmp_path, **cfg)).stdout
    assert stripped + "_cfg" in compiled
    ok(
        leaks.run(
            "compile", str(pipeline_file), "-o", str(tmp_path / "ir.json"), cwd=tmp_path, **cfg
        )
    )
    for isolation in ("in-process", "subprocess"):
        ran = leaks.run(
            "run", str(pipeline_file), "--isolation", isolation, "--json", cwd=tmp_path, **cfg
        )
        assert as_json(ran)["succeeded"]
    for target in ("airflow", "kubeflow"):
        try:
            __import__(f"headrace_{target}")
        except ImportError:
            continue  # their own packages' tests cover their compilers
        leaks.run(
            "compile", str(pipeline_file), "--target", target, "-o", str(tmp_path / target),
            cwd=tmp_path, **cfg,
        )  # fmt: skip

    leaks.check()

    # .headrace/ is its owner's alone; the run folders, logs and run files in it too.
    for private in (root / ".headrace", tmp_path / "cfg" / ".headrace"):
        folders = [private, private / "runs", *private.glob("runs/*"), *private.glob("runs/*/logs")]
        for folder in folders:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        for ir_file in private.glob("runs/*/pipeline.json"):
            assert stat.S_IMODE(ir_file.stat().st_mode) == 0o600, ir_file
    assert list((tmp_path / "cfg" / ".headrace").glob("runs/*/pipeline.json"))


def test_the_password_from_the_environment_a_private_file_or_an_option_file(
    tmp_path: Path, account: tuple[str, str, str]
) -> None:
    user, password, url = account
    # Outputs only: the password and option files hold it, by design.
    leaks = Leaks([password], [])
    bare = url.replace(f":{password}@", "@")
    home = tmp_path / "home"  # no ~/.my.cnf of the machine's user gets in the way
    home.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(tmp_path)}

    def runs_list(metadata: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return leaks.run("runs", "list", "--metadata", metadata, cwd=tmp_path, **env, **extra)

    # Without a password the server refuses; each source then gives it.
    assert runs_list(bare).returncode == 1
    ok(runs_list(bare, HEADRACE_METADATA_PASSWORD=password))

    secret = tmp_path / "password"
    secret.write_text(password + "\n")
    secret.chmod(0o640)
    refused = runs_list(bare, HEADRACE_METADATA_PASSWORD_FILE=str(secret))
    assert refused.returncode == 1
    assert f"{secret} is readable by others (mode 640)" in refused.stderr
    assert f"chmod 600 {secret}" in refused.stderr
    secret.chmod(0o600)
    ok(runs_list(bare, HEADRACE_METADATA_PASSWORD_FILE=str(secret)))
    ok(runs_list(f"{bare}?password_file={secret}"))

    # MySQL's option file: [client] user and password, the URL naming neither.
    (home / ".my.cnf").write_text(f'[client]\nuser = {user}\npassword = "{password}"\n')
    (home / ".my.cnf").chmod(0o600)
    anonymous = bare.replace(f"{user}@", "")
    ok(runs_list(anonymous))
    elsewhere = tmp_path / "client.cnf"
    (home / ".my.cnf").rename(elsewhere)
    elsewhere.chmod(0o644)
    loose = runs_list(f"{anonymous}?option_file={elsewhere}")
    assert loose.returncode == 1 and "MySQL option file" in loose.stderr, loose.stderr
    elsewhere.chmod(0o600)
    ok(runs_list(f"{anonymous}?option_file={elsewhere}"))

    leaks.check()
