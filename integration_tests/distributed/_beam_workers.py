"""Beam SDK worker pools started as separate processes, for ``--environment_type=EXTERNAL``.

Each pool is ``python -m apache_beam.runners.worker.worker_pool_main`` (what Beam's Python SDK
container runs in worker-pool mode, the sidecar of a Flink task manager) started from an empty
directory of its own, with no ``PYTHONPATH``: nothing of the user's files is reachable, so a
job's user code must come through Beam's artifact staging, as on a cluster.

In a container, the pool starts each worker through the container's boot program, which
fetches the job's staged artifacts and pip-installs them before it starts the SDK harness.
There is no container here: this file, run as a script, is that boot program
(``--container_executable``). It installs the staged wheels (``extra_packages.txt``, the
order Beam's stager wrote) into the worker's own folder and starts the harness on it, and it
records what each worker process did (pid, parent, directory, the ``headrace_user_*`` modules
it imported, its CPU time), which the tests read as proof that the work ran there.

Beam's gRPC servers bind every interface; here they bind 127.0.0.1 (`bind_loopback`): in the
pools, their workers and, for the embedded job server, the test's own process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MULTI_PROCESS",
    "ChildWorkers",
    "WorkerPool",
    "bind_loopback",
    "external_args",
    "start_pools",
    "stop_pools",
]

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]

# Run first in every Beam process we start: gRPC servers asked for "[::]" bind 127.0.0.1.
_LOOPBACK = """
import grpc._server as _s
_add = _s._Server.add_insecure_port
_s._Server.add_insecure_port = lambda self, a: _add(self, a.replace("[::]", "127.0.0.1", 1))
"""

# A pool outlives no test process, even one killed outright (Linux: PR_SET_PDEATHSIG).
_POOL = (
    _LOOPBACK
    + """
import ctypes, signal, sys
ctypes.CDLL(None).prctl(1, signal.SIGTERM)
from apache_beam.runners.worker import worker_pool_main
worker_pool_main.main(sys.argv[1:])
"""
)

# The SDK harness of one worker; a thread records what it imported and the CPU it used.
_HARNESS = (
    _LOOPBACK
    + """
import json, os, runpy, sys, threading, time
_record = os.environ["HEADRACE_WORKER_RECORD"]
def _watch():
    last = None
    while True:
        t = os.times()
        now = {
            "pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(),
            "sys_path": [p for p in sys.path if p],
            "user_modules": sorted(m for m in list(sys.modules) if m.startswith("headrace_user_")),
            "cpu_s": round(t.user + t.system, 1),
        }
        if now != last:
            with open(_record + ".tmp", "w") as f:
                json.dump(now, f)
            os.replace(_record + ".tmp", _record)
            last = now
        time.sleep(0.3)
threading.Thread(target=_watch, daemon=True).start()
runpy.run_module("apache_beam.runners.worker.sdk_worker_main", run_name="__main__")
"""
)


@dataclass
class WorkerPool:
    """One worker pool process: its port, its empty working directory and its records."""

    index: int
    port: int
    folder: Path  # the pool's own: cwd/ (empty), workers/ (records and installs), log
    process: subprocess.Popen[bytes]

    @property
    def cwd(self) -> Path:
        return self.folder / "cwd"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "pool.log"

    def workers(self) -> list[dict[str, Any]]:
        """What each worker this pool started recorded (one per worker, in start order)."""
        records = []
        for path in sorted((self.folder / "workers").glob("*/record.json"), key=os.path.getmtime):
            records.append({"worker": path.parent.name, **json.loads(path.read_text())})
        return records

    def forget_workers(self) -> None:
        shutil.rmtree(self.folder / "workers", ignore_errors=True)
        (self.folder / "workers").mkdir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(pool: WorkerPool, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pool.process.poll() is not None:
            raise RuntimeError(f"worker pool {pool.index} exited: {pool.log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", pool.port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"worker pool {pool.index} not listening on {pool.address} after {timeout}s")


def start_pools(count: int, base: Path) -> list[WorkerPool]:
    """``count`` worker pools, each its own process group, listening on 127.0.0.1."""
    bin_dir = os.path.dirname(sys.executable)
    pools: list[WorkerPool] = []
    try:
        for index in range(count):
            folder = base / f"pool-{index}"
            for sub in ("cwd", "workers", "tmp"):
                (folder / sub).mkdir(parents=True)
            boot = folder / "boot"
            # -P: the script's own folder (this test folder) stays off sys.path.
            boot.write_text(f'#!/bin/sh\nexec "{sys.executable}" -P "{__file__}" "$@"\n')
            boot.chmod(0o755)
            env = {
                # Workers are started as "python": the venv's first on PATH.
                "PATH": os.pathsep.join([bin_dir, "/usr/bin", "/bin"]),
                "HOME": str(folder),
                "TMPDIR": str(folder / "tmp"),
                "HEADRACE_POOL_FOLDER": str(folder),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "TF_USE_LEGACY_KERAS": "1",
            }
            port = _free_port()
            with open(folder / "pool.log", "wb") as log:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-P",
                        "-c",
                        _POOL,
                        f"--service_port={port}",
                        f"--container_executable={boot}",
                    ],
                    cwd=folder / "cwd",
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            pools.append(WorkerPool(index, port, folder, process))
        for pool in pools:
            _wait_listening(pool)
    except BaseException:
        stop_pools(pools)
        raise
    return pools


def stop_pools(pools: list[WorkerPool]) -> None:
    """Stop every pool and the workers it started (their process groups)."""
    for pool in pools:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pool.process.pid, signal.SIGTERM)
    for pool in pools:
        try:
            pool.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pool.process.pid, signal.SIGKILL)
            pool.process.wait(timeout=10)
        # Workers share the pool's process group; any left over go with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pool.process.pid, signal.SIGKILL)


def external_args(pool: WorkerPool, workers: int = 2) -> list[str]:
    """PortableRunner arguments whose SDK workers are ``pool``'s: the embedded job server
    (Beam's FnApiRunner) asks the pool for ``workers`` workers per job and splits each
    stage's bundles among them."""
    return [
        "--runner=PortableRunner",
        "--job_endpoint=embed",
        "--environment_type=EXTERNAL",
        f"--environment_config={pool.address}",
        "--sdk_location=container",
        f"--direct_num_workers={workers}",
    ]


@contextlib.contextmanager
def bind_loopback() -> Iterator[None]:
    """gRPC servers started in this process meanwhile (Beam's job and control services) bind
    127.0.0.1 instead of every interface."""
    import grpc._server as server

    add = server._Server.add_insecure_port

    def loopback(self: Any, address: str) -> int:
        return int(add(self, address.replace("[::]", "127.0.0.1", 1)))

    server._Server.add_insecure_port = loopback
    try:
        yield
    finally:
        server._Server.add_insecure_port = add


class ChildWorkers:
    """The SDK worker processes below this one, sampled from ``/proc`` while a block runs:
    pid -> (CPU seconds, the child of this process it runs under). The multi-process
    DirectRunner's run under a shell this process started; a pool's, under the pool."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[float, int]] = {}
        self._stop = False

    def below(self, parents: set[int], *, cpu: float = 0.0) -> list[int]:
        """The workers that ran under one of ``parents`` and used at least ``cpu`` seconds."""
        return [pid for pid, (used, via) in self.seen.items() if via in parents and used >= cpu]

    def not_below(self, parents: set[int], *, cpu: float = 0.0) -> list[int]:
        return [pid for pid, (used, via) in self.seen.items() if via not in parents and used >= cpu]

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        me = os.getpid()
        parents: dict[int, int] = {}
        usage: dict[int, tuple[bytes, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()  # state, ppid, ...; utime, stime at 11, 12
            parents[int(entry)] = int(fields[1])
            usage[int(entry)] = (cmdline, (int(fields[11]) + int(fields[12])) / tick)
        for pid, (cmdline, cpu) in usage.items():
            if b"sdk_worker_main" not in cmdline or cmdline.startswith(b"/bin/sh"):
                continue
            via, ancestor = pid, parents.get(pid, 0)
            while ancestor > 1 and ancestor != me:
                via, ancestor = ancestor, parents.get(ancestor, 0)
            if ancestor == me:
                self.seen[pid] = (max(cpu, self.seen.get(pid, (0.0, 0))[0]), via)

    @contextlib.contextmanager
    def watching(self) -> Iterator[ChildWorkers]:
        import threading

        def loop() -> None:
            while not self._stop:
                self._sample()
                time.sleep(0.25)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop = True
            thread.join()


# The boot program ------------------------------------------------------------------------


def _boot(argv: list[str]) -> None:
    """Beam's container contract: fetch and install the job's artifacts, start the harness."""
    import argparse

    import grpc
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import (
        beam_artifact_api_pb2,
        beam_artifact_api_pb2_grpc,
        beam_provision_api_pb2,
        beam_provision_api_pb2_grpc,
        beam_runner_api_pb2,
    )
    from apache_beam.runners.worker.channel_factory import GRPCChannelFactory
    from apache_beam.runners.worker.worker_id_interceptor import WorkerIdInterceptor
    from google.protobuf import json_format, text_format

    parser = argparse.ArgumentParser()
    for name in (
        "id",
        "logging_endpoint",
        "artifact_endpoint",
        "provision_endpoint",
        "control_endpoint",
    ):
        parser.add_argument(f"--{name}", required=True)
    args, _ = parser.parse_known_args(argv)

    worker = Path(os.environ["HEADRACE_POOL_FOLDER"]) / "workers" / args.id
    staged, site = worker / "staged", worker / "site-packages"
    staged.mkdir(parents=True)
    site.mkdir()

    def channel(url: str) -> Any:  # the runner tells workers apart by this header
        return grpc.intercept_channel(
            GRPCChannelFactory.insecure_channel(url), WorkerIdInterceptor(args.id)
        )

    provision = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel(args.provision_endpoint))
    info = provision.GetProvisionInfo(beam_provision_api_pb2.GetProvisionInfoRequest()).info
    retrieval = beam_artifact_api_pb2_grpc.ArtifactRetrievalServiceStub(
        channel(args.artifact_endpoint)
    )
    resolved = retrieval.ResolveArtifacts(
        beam_artifact_api_pb2.ResolveArtifactsRequest(artifacts=info.dependencies)
    ).replacements
    for artifact in resolved:
        if artifact.role_urn != common_urns.artifact_roles.STAGING_TO.urn:
            continue
        name = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(
            artifact.role_payload
        ).staged_name
        with open(staged / name, "wb") as f:
            request = beam_artifact_api_pb2.GetArtifactRequest(artifact=artifact)
            for chunk in retrieval.GetArtifact(request):
                f.write(chunk.data)
    listed = staged / "extra_packages.txt"
    for package in listed.read_text().split() if listed.exists() else []:
        if not package.endswith(".whl"):
            # pip would build it; this stand-in has none (the real boot has).
            raise SystemExit(f"boot: staged package {package} is not a wheel")
        with zipfile.ZipFile(staged / package) as wheel:  # what pip does for a pure wheel
            wheel.extractall(site)
    environment = {
        **os.environ,
        "PYTHONPATH": str(site),
        "WORKER_ID": args.id,
        "PIPELINE_OPTIONS": json_format.MessageToJson(info.pipeline_options),
        "SEMI_PERSISTENT_DIRECTORY": str(worker),
        "LOGGING_API_SERVICE_DESCRIPTOR": text_format.MessageToString(info.logging_endpoint)
        or f'url: "{args.logging_endpoint}"',
        "CONTROL_API_SERVICE_DESCRIPTOR": text_format.MessageToString(info.control_endpoint)
        or f'url: "{args.control_endpoint}"',
        "RUNNER_CAPABILITIES": " ".join(info.runner_capabilities),
        "HEADRACE_WORKER_RECORD": str(worker / "record.json"),
    }
    os.dup2(2, 1)  # the pool pipes the worker's stdout and never reads it
    os.execve(sys.executable, [sys.executable, "-P", "-c", _HARNESS], environment)


if __name__ == "__main__":
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # ends with its pool (kept across exec)
    exec(compile(_LOOPBACK, "<loopback>", "exec"))
    _boot(sys.argv[1:])
