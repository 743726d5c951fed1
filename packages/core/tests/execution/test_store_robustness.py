"""Opening a store: concurrent first opens succeed, damaged, empty and foreign files are
refused at once with a message naming the file, permissions give clear errors, and
``headrace metadata check`` / ``upgrade`` report and migrate stores."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hrexec_util import HELLO, cli_args, cli_env, headrace, ok

from headrace_core.metadata import MetadataError, MetadataStore
from headrace_core.testing import ENV_TEST_MYSQL, mysql_required, mysql_unavailable

# SQLite files and MariaDB databases of its own, in the SQLite pass only.
pytestmark = pytest.mark.own_stores

# Fails well before this; the old behaviour retried a damaged store for about 122 s.
NO_HANG_S = 20

_OPEN = textwrap.dedent(
    """
    import sys, time
    from headrace_core.metadata import MetadataStore
    start = float(sys.argv[2])
    while time.time() < start:
        time.sleep(0.001)
    store = MetadataStore(sys.argv[1])
    store.execution_type_id("robustness.Probe")
    print("opened")
    """
)


def _open_together(url: str, n: int = 8) -> list[subprocess.CompletedProcess[str]]:
    # Every process imports first and then opens at one agreed instant.
    start = str(time.time() + 4.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, url, start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for _ in range(n)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _all_opened(results: list[subprocess.CompletedProcess[str]]) -> None:
    failed = [r for r in results if r.returncode != 0 or "opened" not in r.stdout]
    assert not failed, "\n---\n".join(r.stderr[-2000:] for r in failed)


def _mysql_server() -> str:
    """The test server; skips without one, or fails where CI requires it."""
    reason = mysql_unavailable()
    if reason is not None:
        if mysql_required():
            pytest.fail(reason)
        pytest.skip(reason)
    return os.environ[ENV_TEST_MYSQL].strip().rstrip("/")


def test_eight_first_opens_of_a_new_sqlite_store_all_succeed(tmp_path: Path) -> None:
    _all_opened(_open_together("sqlite:///" + str(tmp_path / "new" / "metadata.sqlite")))


def test_eight_first_opens_of_an_empty_mysql_database_all_succeed() -> None:
    server = _mysql_server()
    _all_opened(_open_together(f"{server}/robust_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(scope="module")
def hello_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline root in which hello ran once (copy it before changing it)."""
    root = tmp_path_factory.mktemp("hello")
    ok(headrace("run", str(HELLO), "--pipeline-root", str(root)))
    return root


def _copy(hello_store: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(hello_store, root)
    return root


def _corrupt(path: Path) -> None:
    """Random bytes over the pages between the first and the last two."""
    page = 4096
    pages = path.stat().st_size // page
    assert pages >= 6, f"{path} has only {pages} pages"
    with path.open("r+b") as f:
        f.seek(page)
        f.write(os.urandom(page * (pages - 3)))


def _fails_clearly(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in proc.stderr, proc.stderr
    return proc.stderr


def _timed(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = headrace(*args, **env)
    assert time.monotonic() - started < NO_HANG_S, "the command waited on a damaged store"
    return proc


def test_a_damaged_store_fails_run_and_runs_list_at_once_naming_the_file(
    hello_store: Path, tmp_path: Path
) -> None:
    root = _copy(hello_store, tmp_path)
    store = root / "metadata.sqlite"
    _corrupt(store)
    for args in (("run", str(HELLO)), ("runs", "list")):
        err = _fails_clearly(_timed(*args, "--pipeline-root", str(root)), str(store))
        assert "damaged" in err and "metadata check" in err, err
    check = _timed("metadata", "check", "--pipeline-root", str(root))
    assert check.returncode == 1 and "NOT healthy" in check.stdout, check.stdout + check.stderr
    assert "Traceback" not in check.stderr, check.stderr


def test_damaged_schema_pages_are_not_retried_as_a_concurrent_creation(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "m.sqlite")
    store = MetadataStore(url)
    store.execution_type_id("robustness.Probe")
    del store
    # Page 2 onwards holds MLMD's tables: damaged, MLMD says "please retry the connection".
    with (tmp_path / "m.sqlite").open("r+b") as f:
        f.seek(4096)
        f.write(os.urandom(4096 * 4))
    with pytest.raises(MetadataError, match="damaged") as caught:
        MetadataStore(url)
    assert str(tmp_path / "m.sqlite") in str(caught.value)


def test_an_empty_store_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "metadata.sqlite").write_bytes(b"")
    err = _fails_clearly(
        headrace("run", str(HELLO), "--pipeline-root", str(root)), str(root / "metadata.sqlite")
    )
    assert "0-byte" in err, err
    assert (root / "metadata.sqlite").stat().st_size == 0
    assert not (root / "metadata.sqlite-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 500)
    before = path.read_bytes()
    with pytest.raises(MetadataError, match="not an SQLite database") as caught:
        MetadataStore("sqlite:///" + str(path))
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_an_sqlite_database_of_something_else_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.execute("INSERT INTO users VALUES ('ada')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(MetadataError, match="none of ML Metadata's") as caught:
        MetadataStore("sqlite:///" + str(path))
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_a_path_that_does_not_exist_is_still_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "metadata.sqlite"
    MetadataStore("sqlite:///" + str(path)).execution_type_id("robustness.Probe")
    assert path.stat().st_size > 0


# Root ignores file permissions: drop to nobody for the commands that must be refused.
_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to its owner)."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot test file permissions")
    path = Path(tempfile.mkdtemp(prefix="headrace-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(path)


def _as_user(*args: str) -> subprocess.CompletedProcess[str]:
    prefix = _NOBODY if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, *cli_args(*args)],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
        timeout=120,
    )


def _store_in(folder: Path) -> Path:
    folder.mkdir()
    path = folder / "metadata.sqlite"
    MetadataStore("sqlite:///" + str(path)).execution_type_id("robustness.Probe")
    return path


def _give_to_user(path: Path) -> None:
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)


def test_a_read_only_store_file_is_a_clear_error(shared_dir: Path) -> None:
    path = _store_in(shared_dir / "root")
    _give_to_user(path.parent)
    path.chmod(0o444)
    proc = _as_user("runs", "list", "--metadata", "sqlite:///" + str(path))
    assert "read-only" in _fails_clearly(proc, str(path))


def test_a_read_only_folder_of_the_store_is_a_clear_error(shared_dir: Path) -> None:
    path = _store_in(shared_dir / "root")
    for p in path.parent.iterdir():
        _give_to_user(p)
    path.parent.chmod(0o555)
    proc = _as_user("runs", "list", "--metadata", "sqlite:///" + str(path))
    assert "not writable" in _fails_clearly(proc, str(path.parent))
    # A store to be created in a folder that cannot be made: the same, before MLMD runs.
    new = path.parent / "sub" / "metadata.sqlite"
    code = (
        "import sys\n"
        "from headrace_core.metadata import MetadataError, MetadataStore\n"
        "try:\n    MetadataStore(sys.argv[1])\n"
        "except MetadataError as e:\n    print(e)\n"
    )
    prefix = _NOBODY if os.geteuid() == 0 else []
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", code, "sqlite:///" + str(new)],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "not writable" in proc.stdout and str(path.parent) in proc.stdout, proc.stdout
    assert not new.parent.exists()


def test_metadata_check_reports_a_healthy_store(hello_store: Path, tmp_path: Path) -> None:
    root = _copy(hello_store, tmp_path)
    proc = ok(headrace("metadata", "check", "--pipeline-root", str(root)))
    out = proc.stdout
    assert "integrity: ok" in out and "healthy" in out and "NOT healthy" not in out, out
    assert "schema version: 10" in out, out
    assert "RUNNING executions: 0" in out, out
    counts = {
        k: int(v)
        for k, v in (line.split(": ") for line in out.splitlines() if ": " in line)
        if k in ("executions", "artifacts", "contexts")
    }
    assert counts["executions"] >= 5 and counts["artifacts"] >= 5 and counts["contexts"] >= 3


def test_metadata_upgrade_migrates_an_older_schema(hello_store: Path, tmp_path: Path) -> None:
    root = _copy(hello_store, tmp_path)
    store = root / "metadata.sqlite"
    downgrade = (
        "import sys, ml_metadata\n"
        "from ml_metadata.proto import metadata_store_pb2 as pb\n"
        "c = pb.ConnectionConfig(); c.sqlite.filename_uri = sys.argv[1]\n"
        "ml_metadata.downgrade_schema(c, 7)\n"
    )
    subprocess.run([sys.executable, "-c", downgrade, str(store)], check=True, env=cli_env())
    err = _fails_clearly(headrace("runs", "list", "--pipeline-root", str(root)), str(store))
    assert "schema version 7" in err and "headrace metadata upgrade" in err, err
    proc = ok(headrace("metadata", "upgrade", "--pipeline-root", str(root)))
    assert "from version 7 to 10" in proc.stdout, proc.stdout
    ok(headrace("runs", "list", "--pipeline-root", str(root)))
    proc = ok(headrace("metadata", "upgrade", "--pipeline-root", str(root)))
    assert "nothing to do" in proc.stdout, proc.stdout


def test_a_store_from_a_newer_ml_metadata_says_to_upgrade_the_library(
    hello_store: Path, tmp_path: Path
) -> None:
    root = _copy(hello_store, tmp_path)
    store = root / "metadata.sqlite"
    db = sqlite3.connect(store)  # no MLMD connection to this file exists in this process
    db.execute("UPDATE MLMDEnv SET schema_version = 99")
    db.commit()
    db.close()
    err = _fails_clearly(headrace("runs", "list", "--pipeline-root", str(root)), str(store))
    assert "newer ml-metadata" in err and "schema version 99" in err, err
    proc = headrace("metadata", "check", "--pipeline-root", str(root))
    assert proc.returncode == 1 and "newer ml-metadata" in proc.stdout, proc.stdout


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 2 MiB file system of its own (tmpfs), to fill up."""
    path = Path(tempfile.mkdtemp(prefix="headrace-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        path.rmdir()
        pytest.skip("cannot mount a small tmpfs here (needs root): no full disk to test on")
    try:
        yield path
    finally:
        # Lazily: the MLMD connection still open in this process would keep it busy.
        subprocess.run(["umount", "--lazy", str(path)], check=True)
        path.rmdir()


def _fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)


def test_a_full_disk_is_a_clear_error_naming_the_store(small_disk: Path) -> None:
    from ml_metadata.proto import metadata_store_pb2 as pb

    path = small_disk / "metadata.sqlite"
    store = MetadataStore("sqlite:///" + str(path))
    type_id = store.execution_type_id("robustness.Probe")
    _fill(small_disk)
    with pytest.raises(MetadataError, match="disk is full") as caught:
        for i in range(100):
            batch = [pb.Execution(type_id=type_id, name=f"{i}-{j}" * 30) for j in range(200)]
            store.call("put_executions", batch)
    assert str(path) in str(caught.value)
    with pytest.raises(MetadataError, match="disk is full") as caught:
        MetadataStore("sqlite:///" + str(small_disk / "new.sqlite"))
    assert str(small_disk / "new.sqlite") in str(caught.value)


class _PrivateMariaDB:
    """A MariaDB server of this test's own, to stop and start (never the shared one)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={folder / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            check=True,
            timeout=120,
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                "--user=root",
                "--bind-address=127.0.0.1",
                f"--port={self.port}",
                f"--socket={self.folder / 'sock'}",
                f"--pid-file={self.folder / 'pid'}",
                "--skip-name-resolve",
                f"--log-error={self.folder / 'err.log'}",
            ]
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
            self.proc = None

    def start_later(self, seconds: float) -> threading.Thread:
        thread = threading.Thread(target=lambda: (time.sleep(seconds), self.start()))
        thread.start()
        return thread


@pytest.fixture
def private_mariadb(tmp_path: Path) -> Iterator[_PrivateMariaDB]:
    if not (shutil.which("mariadbd") and shutil.which("mariadb-install-db")):
        pytest.skip("mariadbd / mariadb-install-db not installed: no server to restart")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _PrivateMariaDB(tmp_path / "mariadb", port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_calls_and_opens_wait_for_a_restarting_mysql_server(
    private_mariadb: _PrivateMariaDB,
) -> None:
    url = f"mysql://root@127.0.0.1:{private_mariadb.port}/restart"
    deadline = time.monotonic() + 60
    while True:  # the server's first start
        try:
            store = MetadataStore(url)
            break
        except MetadataError:
            if time.monotonic() > deadline:
                raise
    store.execution_type_id("robustness.Before")
    private_mariadb.stop()
    private_mariadb.start_later(2.0)
    assert store.call("get_executions") == []
    private_mariadb.stop()
    private_mariadb.start_later(2.0)
    # Nothing was sent while the server was down, so a write repeats too.
    assert store.execution_type_id("robustness.During") > 0
    private_mariadb.stop()
    private_mariadb.start_later(2.0)
    again = MetadataStore(url)
    assert again.call("get_execution_type", "robustness.Before").name == "robustness.Before"


def test_metadata_check_and_upgrade_on_mysql() -> None:
    server = _mysql_server()
    url = f"{server}/robust_{uuid.uuid4().hex[:12]}"
    MetadataStore(url).execution_type_id("robustness.Probe")
    downgrade = (
        "import sys, ml_metadata\n"
        "from headrace_core.metadata import connection_config\n"
        "ml_metadata.downgrade_schema(connection_config(sys.argv[1]), 7)\n"
    )
    subprocess.run([sys.executable, "-c", downgrade, url], check=True, env=cli_env())
    proc = headrace("metadata", "check", "--metadata", url)
    assert proc.returncode == 1 and "schema version 7" in proc.stdout, proc.stdout
    proc = ok(headrace("metadata", "upgrade", "--metadata", url))
    assert "from version 7 to 10" in proc.stdout, proc.stdout
    proc = ok(headrace("metadata", "check", "--metadata", url))
    assert "schema version: this ml-metadata's" in proc.stdout, proc.stdout
    assert "executions: 0" in proc.stdout and "NOT healthy" not in proc.stdout, proc.stdout
