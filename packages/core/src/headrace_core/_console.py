"""What ``headrace run`` shows while a run is in progress: a line per node event, and for a
node that runs long, a line now and then with its elapsed time and where it is.

Everything the nodes print goes to their logs (``headrace runs logs``) while the run is in
progress; ``-v`` streams it here too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from headrace_core.layout import PipelineLayout
from headrace_core.runtime import NodeEvent, NodeOutput, Status, active_output

__all__ = ["LABELS", "RunConsole"]

LABELS: dict[str, str] = {
    Status.QUEUED: "queued",
    Status.RUNNING: "running",
    Status.COMPLETE: "done",
    Status.CACHED: "cached",
    Status.FAILED: "FAILED",
    Status.SKIPPED: "skipped",
    Status.NOT_RUN: "not run",
}
#: Seconds between progress lines of a running node (``HEADRACE_PROGRESS_SECONDS``).
PROGRESS_ENV = "HEADRACE_PROGRESS_SECONDS"
_PROGRESS_DEFAULT = 20.0


class RunConsole:
    """Prints node events; with :meth:`capturing`, node output goes to per-node logs."""

    def __init__(self, width: int, *, quiet: bool = False, verbose: bool = False) -> None:
        self.width = width
        self.quiet = quiet
        self.verbose = verbose
        self.start = time.monotonic()
        self._running: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stream: TextIO = sys.stdout
        try:
            self.interval = float(os.environ.get(PROGRESS_ENV) or _PROGRESS_DEFAULT)
        except ValueError:
            self.interval = _PROGRESS_DEFAULT

    def _print(self, text: str) -> None:
        with self._lock, contextlib.suppress(ValueError, OSError):
            self._stream.write(text + "\n")
            self._stream.flush()

    def line(self, node_id: str, label: str, took: str, detail: str = "") -> None:
        self._print(
            f"[{time.monotonic() - self.start:7.1f}s] {node_id.ljust(self.width)}  "
            f"{label:8} {took}{detail}"
        )

    def event(self, event: NodeEvent) -> None:
        if event.status == Status.RUNNING:
            self._running[event.node_id] = time.monotonic()
        else:
            self._running.pop(event.node_id, None)
        if self.quiet or event.status == Status.QUEUED:
            return
        label = LABELS.get(event.status, str(event.status))
        took = f"{event.duration:7.2f}s" if event.status != Status.RUNNING else " " * 8
        message = event.explained
        show = message and event.status != Status.COMPLETE
        self.line(event.node_id, label, took, f"  {message}" if show else "")

    def _progress(self, stop: threading.Event) -> None:
        printed: dict[str, float] = {}
        while not stop.wait(min(self.interval, 1.0)):
            now = time.monotonic()
            output = active_output()
            for node_id, since in list(self._running.items()):
                if now - printed.get(node_id, since) < self.interval:
                    continue
                printed[node_id] = now
                where = output.progress(node_id) if output is not None else ""
                detail = f"  {where[:90]}" if where else ""
                self.line(node_id, "running", f"{now - since:6.0f}s ", detail)

    @contextlib.contextmanager
    def capturing(
        self, layout: PipelineLayout, run_id: str, *, err: bool = False
    ) -> Iterator[None]:
        """Node output to per-node logs (streamed here too with verbose) and progress lines
        for long nodes, while the block runs. ``err``: this console is standard error."""
        stop = threading.Event()
        progress = threading.Thread(target=self._progress, args=(stop,), daemon=True)
        layout.make_private(layout.logs(run_id))  # the logs hold whatever the nodes print
        with NodeOutput(layout, run_id, verbose=self.verbose, console_fd=2 if err else 1) as out:
            self._stream = out.console
            if not self.quiet:
                progress.start()
            try:
                yield
            finally:
                stop.set()
                if progress.is_alive():
                    progress.join()
                self._stream = sys.stdout
