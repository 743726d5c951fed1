"""Every path under a pipeline root, in one place.

::

    <root>/
      metadata.sqlite                              the embedded ML Metadata store (default)
      <node_id>/<output_key>/<execution_id>/       a published output
      <node_id>/<output_key>/<execution_id>.staging/   what an executor writes before publishing
      .tmp/<execution_id>/                         an executor's scratch space
      .headrace/running/<node_id>/<token>.json     marker: which process claims an execution
      .headrace/runs/<run_id>/pipeline.json        the IR a run's node processes read
      .headrace/runs/<run_id>/<orchestrator>/      an adapter's working files for one run
      .headrace/runs/<run_id>/logs/<node_id>.log   a node's captured output
      .headrace/runs/<run_id>/logs/run.log         output while no node was running
      .headrace/usercode/<digest>/                 user modules as the loader imports them
      .headrace/<orchestrator>/                    an adapter's long-lived files (Airflow's home)

Nothing else joins paths under a root by hand (a test checks), so the layout can change here
alone. ``.headrace/`` is private to its owner (mode 700, :meth:`PipelineLayout.make_private`):
it holds run files and node logs, which are nobody else's to read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["OnDisk", "PipelineLayout"]

_PRIVATE = ".headrace"


@dataclass(frozen=True)
class OnDisk:
    """A folder found under a root where the layout puts an execution's files: a published
    (or unpublished) output, its staging folder, or scratch space (``key`` is empty)."""

    path: str
    node_id: str
    key: str
    execution_id: int
    kind: str  # "output", "staging" or "scratch"


def _subfolders(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


@dataclass(frozen=True)
class PipelineLayout:
    """The paths of one pipeline root. ``root`` is made absolute once, here."""

    root: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", os.path.abspath(self.root))

    # ML Metadata ---------------------------------------------------------------------------

    @property
    def metadata_sqlite(self) -> str:
        return os.path.join(self.root, "metadata.sqlite")

    # Outputs -------------------------------------------------------------------------------

    def output(self, node_id: str, key: str, execution_id: int, index: int | None = None) -> str:
        """Where a published output lives; ``index`` for the second and later artifact of a
        key with several."""
        path = os.path.join(self.root, node_id, key, str(execution_id))
        return path if index is None else os.path.join(path, str(index))

    def staging(self, node_id: str, key: str, execution_id: int) -> str:
        return os.path.join(self.root, node_id, key, f"{execution_id}.staging")

    def tmp(self, execution_id: int) -> str:
        return os.path.join(self.root, ".tmp", str(execution_id))

    def execution_folders(self, node_ids: set[str]) -> Iterator[OnDisk]:
        """Every folder of the layout's shape that holds an execution's files, for the nodes
        named (anything else under the root, a serving folder say, is not ours to judge)."""
        for node_id in sorted(node_ids):
            for key in _subfolders(os.path.join(self.root, node_id)):
                for entry in _subfolders(key.path):
                    name, staging = entry.name, entry.name.endswith(".staging")
                    number = name[: -len(".staging")] if staging else name
                    if number.isdigit():
                        kind = "staging" if staging else "output"
                        yield OnDisk(entry.path, node_id, key.name, int(number), kind)
        for entry in _subfolders(os.path.join(self.root, ".tmp")):
            if entry.name.isdigit():
                yield OnDisk(entry.path, "", "", int(entry.name), "scratch")

    # Bookkeeping ---------------------------------------------------------------------------

    @property
    def private(self) -> str:
        return os.path.join(self.root, _PRIVATE)

    def make_private(self, *folders: str) -> str:
        """Create ``.headrace/`` readable by its owner alone (and tighten an older one, made
        with the umask's mode), so that nothing under it is readable by others whatever
        mode its files get; then ``folders`` under it, each missing level mode 700 too."""
        os.makedirs(self.private, mode=0o700, exist_ok=True)
        if os.stat(self.private).st_mode & 0o077:
            os.chmod(self.private, 0o700)
        for folder in folders:
            relative = os.path.relpath(folder, self.private)
            if relative.startswith(os.pardir):
                raise ValueError(f"{folder} is not under {self.private}")
            path = self.private
            for part in relative.split(os.sep):
                path = os.path.join(path, part)
                # os.makedirs gives its mode to the last level only.
                with contextlib.suppress(FileExistsError):
                    os.mkdir(path, 0o700)
        return self.private

    def markers(self, node_id: str) -> str:
        return os.path.join(self.root, _PRIVATE, "running", node_id)

    def marker(self, node_id: str, token: str) -> str:
        return os.path.join(self.markers(node_id), f"{token}.json")

    def run_dir(self, run_id: str) -> str:
        return os.path.join(self.root, _PRIVATE, "runs", run_id)

    def run_ir(self, run_id: str) -> str:
        return os.path.join(self.run_dir(run_id), "pipeline.json")

    def run_workdir(self, run_id: str, orchestrator: str) -> str:
        """An orchestrator adapter's files for one run (Beam's step channel, KFP's root)."""
        return os.path.join(self.run_dir(run_id), orchestrator)

    def logs(self, run_id: str) -> str:
        return os.path.join(self.run_dir(run_id), "logs")

    def node_log(self, run_id: str, node_id: str) -> str:
        return os.path.join(self.logs(run_id), f"{node_id}.log")

    def run_log(self, run_id: str) -> str:
        return os.path.join(self.logs(run_id), "run.log")

    @property
    def user_code(self) -> str:
        """Copies of module files the user-code loader imports from (one per content)."""
        return os.path.join(self.root, _PRIVATE, "usercode")

    def orchestrator_home(self, orchestrator: str) -> str:
        """An adapter's files that outlive runs (an Airflow home)."""
        return os.path.join(self.root, _PRIVATE, orchestrator)
