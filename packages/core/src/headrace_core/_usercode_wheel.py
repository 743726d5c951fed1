"""A wheel of one folder of modules, built with the stdlib, for Beam's ``--extra_package``,
and which Beam arguments need one.

Remote Beam workers pip-install the packages a job stages; a wheel needs no build backend
on either side (an sdist would need setuptools on every worker), and a folder of modules and
packages is all a user's module folder copy is. The wheel's name carries the content digest,
so it is built once per content and a worker never confuses two versions.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Sequence

__all__ = ["build_wheel", "needs_extra_package"]

_VERSION = "0.0.0"
_LOCAL_RUNNERS = {"", "directrunner", "bundlebaseddirectrunner", "switchingdirectrunner"}
# Beam's FlinkRunner runs an embedded Flink inside the job server it starts for these.
_LOCAL_FLINK_MASTERS = {"", "[local]", "[auto]"}


def _option(args: Sequence[str], name: str) -> str | None:
    value = None
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            value = arg.partition("=")[2]
        elif arg == f"--{name}" and i + 1 < len(args):
            value = args[i + 1]
    return value


def _given(args: Sequence[str], name: str) -> bool:
    return any(a == f"--{name}" or a.startswith(f"--{name}=") for a in args)


def _process_workers_inherit(args: Sequence[str]) -> bool:
    """Whether a ``PROCESS`` environment's workers are started by a job server this process
    starts (an embedded one, or a runner's own with an in-process engine), so they inherit
    its environment; a job server or cluster elsewhere starts them from its own."""
    endpoint = _option(args, "job_endpoint")
    if endpoint and endpoint != "embed":
        return False
    if _given(args, "flink_submit_uber_jar") or _given(args, "spark_submit_uber_jar"):
        return False
    if (_option(args, "flink_master") or "").strip() not in _LOCAL_FLINK_MASTERS:
        return False
    spark_master = _option(args, "spark_master_url")
    return spark_master is None or spark_master.startswith("local")


def needs_extra_package(beam_pipeline_args: Sequence[str]) -> bool:
    """Whether these arguments run Beam workers that cannot see this machine's ``PYTHONPATH``."""
    runner = (_option(beam_pipeline_args, "runner") or "").lower().rpartition(".")[2]
    if runner in _LOCAL_RUNNERS:
        return False
    environment = (_option(beam_pipeline_args, "environment_type") or "").lower()
    if environment == "loopback":  # the workers are threads of this process
        return False
    if environment == "process":
        return not _process_workers_inherit(beam_pipeline_args)
    return True


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def build_wheel(folder: str, distribution: str, root: str) -> str:
    """``<root>/wheels/<distribution>-0.0.0-py3-none-any.whl`` holding ``folder``'s ``.py``
    files (top-level modules and packages); built unless it exists already."""
    wheels = os.path.join(root, "wheels")
    path = os.path.join(wheels, f"{distribution}-{_VERSION}-py3-none-any.whl")
    if os.path.isfile(path):
        return path
    os.makedirs(wheels, exist_ok=True)
    info = f"{distribution}-{_VERSION}.dist-info"
    files: dict[str, bytes] = {}
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(n for n in names if n.endswith(".py")):
            full = os.path.join(parent, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, folder).replace(os.sep, "/")] = f.read()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {_VERSION}\n"
        "Summary: user code copied by headrace for Beam workers\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: headrace\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    fd, staging = tempfile.mkstemp(prefix=".wheel-", dir=wheels)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.remove(staging)
    return path
