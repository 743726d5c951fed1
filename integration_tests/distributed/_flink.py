"""A local Flink 1.18.1 cluster for the tests: assembled from PyPI, bound to 127.0.0.1.

Flink's own binary distribution lives on Apache's mirrors; PyPI carries the same files in
two source distributions: ``apache-flink`` (``deps/bin``, ``deps/conf``) and
``apache-flink-libraries`` (``deps/lib`` with ``flink-dist``, ``deps/opt`` with the SQL
client, and ``bash-java-utils.jar``, which the scripts use to read the configuration). They
are downloaded once with pip into a cache folder outside the repository
(``$HEADRACE_FLINK_CACHE``, else ``~/.cache/headrace/flink-1.18.1``), assembled into a
Flink home there, and the tarballs removed; later runs reuse the home.

A cluster is one JobManager and one TaskManager, each started in the foreground in its own
process group (so stopping it kills the JVM and any child it started), with a configuration
folder of its own (``FLINK_CONF_DIR``): the home is never written to after assembly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import _sockets
from _sockets import free_port

__all__ = [
    "ENV_CACHE",
    "FLINK_VERSION",
    "FlinkCluster",
    "FlinkUnavailableError",
    "flink_cluster",
    "flink_home",
    "listening_addresses",
    "run_sum_job",
]

FLINK_VERSION = "1.18.1"
ENV_CACHE = "HEADRACE_FLINK_CACHE"
_DISTRIBUTIONS = ("apache-flink", "apache-flink-libraries")
# What each source distribution contributes to the home (paths under its ``deps/``).
_WANTED = {
    "apache-flink": ("bin/", "conf/"),
    "apache-flink-libraries": ("lib/", "opt/", "bin/bash-java-utils.jar"),
}
_READY = ".headrace-complete"


class FlinkUnavailableError(RuntimeError):
    """Flink could not be obtained or started here; the message says what was missing."""


def cache_folder() -> Path:
    configured = os.environ.get(ENV_CACHE)
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".cache" / "headrace" / f"flink-{FLINK_VERSION}"


def _pip() -> list[str]:
    """A pip to download with: this interpreter's, else the one on PATH (uv-built venvs have
    none; CI's PATH has the tools venv's)."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise FlinkUnavailableError(
        "no pip found to download Flink from PyPI (python -m pip, pip3, pip)"
    )


def _download(into: Path) -> dict[str, Path]:
    into.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={FLINK_VERSION}" for name in _DISTRIBUTIONS]
    command = [*_pip(), "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
    done = subprocess.run(
        [*command, "--dest", str(into), *pins], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise FlinkUnavailableError(f"pip download {' '.join(pins)} failed:\n{done.stderr[-3000:]}")
    found = {}
    for name in _DISTRIBUTIONS:
        path = into / f"{name}-{FLINK_VERSION}.tar.gz"
        if not path.is_file():
            raise FlinkUnavailableError(f"pip download left no {path.name} in {into}")
        found[name] = path
    return found


def _extract(archive: Path, wanted: tuple[str, ...], home: Path) -> None:
    prefix = f"{archive.name.removesuffix('.tar.gz')}/deps/"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.name.startswith(prefix):
                continue
            relative = member.name[len(prefix) :]
            if not relative.startswith(wanted) or not (member.isfile() or member.isdir()):
                continue
            member.name = relative
            tar.extract(member, home, filter="data")


def flink_home() -> Path:
    """The assembled Flink home in the cache folder; downloaded and assembled when absent."""
    cache = cache_folder()
    home = cache / "home"
    if (home / _READY).is_file():
        return home
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise FlinkUnavailableError(
            "no java on PATH and JAVA_HOME unset: install Debian's openjdk-17-jre-headless"
        )
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assemble-", dir=cache))
    try:
        archives = _download(work / "downloads")
        staging = work / "home"
        for name, archive in archives.items():
            _extract(archive, _WANTED[name], staging)
        (staging / "plugins").mkdir(exist_ok=True)
        for script in (staging / "bin").iterdir():
            script.chmod(0o755)
        (staging / _READY).write_text(f"{FLINK_VERSION}\n")
        shutil.rmtree(home, ignore_errors=True)  # an incomplete earlier assembly
        with contextlib.suppress(OSError):  # a concurrent assembly got there first
            staging.rename(home)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not (home / _READY).is_file():
        raise FlinkUnavailableError(f"assembling Flink in {home} failed")
    return home


def _configuration(rpc_port: int, rest_port: int, tmp: Path, original: str) -> str:
    # Flink's own JVM options line (module opens Java 17 needs) is kept; everything that
    # listens is pinned to 127.0.0.1, and the memory sizes fit a small shared machine.
    java_opts = next(
        (line for line in original.splitlines() if line.startswith("env.java.opts.all:")), ""
    )
    settings = {
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.rpc.port": rpc_port,
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.host": "127.0.0.1",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.memory.process.size": "1280m",
        "taskmanager.numberOfTaskSlots": 2,
        "parallelism.default": 1,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": rest_port,
        "blob.server.port": 0,
        # The TaskManager starts beside the JobManager and retries until it is up: every
        # second, not every 10 s.
        "cluster.registration.error-delay": 1000,  # ms
        "io.tmp.dirs": str(tmp),
        "web.tmpdir": str(tmp),
    }
    return "\n".join([java_opts, *(f"{k}: {v}" for k, v in settings.items())]) + "\n"


@dataclass
class FlinkCluster:
    home: Path
    conf_dir: Path
    log_dir: Path
    rpc_port: int
    rest_port: int
    processes: list[subprocess.Popen[bytes]]
    _ready: bool = False

    @property
    def master(self) -> str:
        """What Beam's ``--flink_master`` takes: the REST endpoint."""
        return f"127.0.0.1:{self.rest_port}"

    def rest(self, path: str, timeout: float = 5.0) -> object:
        with urllib.request.urlopen(f"http://{self.master}{path}", timeout=timeout) as response:
            return json.load(response)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLINK_CONF_DIR": str(self.conf_dir),
            "FLINK_LOG_DIR": str(self.log_dir),
        }

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the JobManager reports a registered TaskManager (once per cluster)."""
        if not self._ready:
            _wait_for(self, "/taskmanagers", "taskmanagers", timeout)
            self._ready = True

    def logs(self, limit: int = 4000) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-limit:]}")
        return "\n".join(parts)


def _start(cluster: FlinkCluster, script: str) -> None:
    log = open(cluster.log_dir / f"{script}.console", "wb")  # noqa: SIM115 - the child keeps it
    with log:
        process = subprocess.Popen(
            [str(cluster.home / "bin" / f"{script}.sh"), "start-foreground"],
            cwd=cluster.log_dir,
            env=cluster.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cluster.processes.append(process)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # The group, not the process: a JVM's children (and a script's) go with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(cluster: FlinkCluster, path: str, key: str, timeout: float) -> None:
    """Until the REST API answers ``path`` with a non-empty ``key``."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        for process in cluster.processes:
            if process.poll() is not None:
                raise FlinkUnavailableError(
                    f"a Flink process exited with {process.returncode} while starting:\n"
                    f"{cluster.logs()}"
                )
        try:
            answer = cluster.rest(path, timeout=2)
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = repr(e)
        else:
            if isinstance(answer, dict) and answer.get(key):
                return
            last = repr(answer)
        time.sleep(0.5)
    raise FlinkUnavailableError(
        f"the JobManager at {cluster.master} gave no {key} at {path} within {timeout:.0f} s "
        f"(last answer: {last}):\n{cluster.logs()}"
    )


@contextlib.contextmanager
def flink_cluster(
    workdir: Path, timeout: float = 120.0, wait: bool = True
) -> Iterator[FlinkCluster]:
    """A running JobManager and TaskManager, stopped on exit; with ``wait``, the TaskManager
    registered before it is yielded (else call :meth:`FlinkCluster.wait_ready` when needed:
    the JVMs start meanwhile)."""
    home = flink_home()
    conf_dir, log_dir, tmp = workdir / "conf", workdir / "log", workdir / "tmp"
    for folder in (conf_dir, log_dir, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(home / "conf"):
        if name.startswith(("log4j", "logback")):
            shutil.copy(home / "conf" / name, conf_dir / name)
    original = (home / "conf" / "flink-conf.yaml").read_text()
    rpc_port, rest_port = free_port(), free_port()
    (conf_dir / "flink-conf.yaml").write_text(_configuration(rpc_port, rest_port, tmp, original))
    cluster = FlinkCluster(home, conf_dir, log_dir, rpc_port, rest_port, [])
    try:
        _start(cluster, "jobmanager")
        _start(cluster, "taskmanager")
        if wait:
            cluster.wait_ready(timeout)
        yield cluster
    finally:
        _stop(cluster.processes)


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
    return pids


def listening_addresses(processes: list[subprocess.Popen[bytes]]) -> list[str]:
    """``host:port`` of every TCP socket listening in these processes' groups."""
    return sorted(_sockets.listening_addresses(p for c in processes for p in _group_pids(c.pid)))


# Flink SQL through Flink's Java API, submitted to the cluster's REST endpoint: the planner's
# generated operators are compiled and run on the TaskManager, so no job jar is needed (the
# PyPI packages carry no example jars, and the SQL client lacks the gateway jar). Run in
# Java's source-file mode (JEP 330), which Debian's openjdk-17-jre-headless supports.
_SUM_JOB = """
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

public class SumJob {
  public static void main(String[] args) throws Exception {
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createRemoteEnvironment(args[0], Integer.parseInt(args[1]));
    env.setRuntimeMode(RuntimeExecutionMode.BATCH);
    StreamTableEnvironment tables = StreamTableEnvironment.create(env);
    tables.getConfig().set("pipeline.name", args[2]);
    tables.executeSql("CREATE TABLE numbers (n BIGINT) WITH ('connector' = 'datagen', "
        + "'number-of-rows' = '" + args[3] + "', 'fields.n.kind' = 'sequence', "
        + "'fields.n.start' = '1', 'fields.n.end' = '" + args[3] + "')");
    try (CloseableIterator<Row> rows =
        tables.executeSql("SELECT COUNT(*), SUM(n) FROM numbers").collect()) {
      while (rows.hasNext()) {
        Row row = rows.next();
        System.out.println("RESULT " + row.getField(0) + " " + row.getField(1));
      }
    }
  }
}
"""


def run_sum_job(cluster: FlinkCluster, workdir: Path, name: str, rows: int) -> tuple[int, int]:
    """``COUNT(*)`` and ``SUM(n)`` over ``n = 1..rows``, computed by a job on ``cluster``."""
    source = workdir / "SumJob.java"
    source.write_text(_SUM_JOB)
    classpath = os.pathsep.join(str(p) for p in sorted((cluster.home / "lib").glob("*.jar")))
    # C1 only: a short-lived client spends most of its time compiling (JIT and javac).
    java = ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath]
    command = [*java, str(source), "127.0.0.1", str(cluster.rest_port)]
    process = subprocess.Popen(
        [*command, name, str(rows)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        output = ""
    finally:
        _stop([process])  # type: ignore[list-item]
    results = [line.split() for line in output.splitlines() if line.startswith("RESULT ")]
    if process.returncode != 0 or len(results) != 1:
        raise AssertionError(
            f"the Flink SQL job {name!r} exited {process.returncode}:\n{output[-4000:]}\n"
            f"{cluster.logs()}"
        )
    return int(results[0][1]), int(results[0][2])
