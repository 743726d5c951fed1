"""Per-node logs: what executors and the libraries under them print goes to a file per node
(``PipelineLayout.node_log``), not to the console.

While a :class:`NodeOutput` is active (``headrace run`` makes one), file descriptors 1 and 2
of this process are a pipe that a pump thread reads, so even TensorFlow's C++ logging and
Beam's worker output are captured. Each chunk goes to the log of the node that is running
(when several run at once, to each of them), Python warnings and log records to the log of
the node whose thread raised them. The console keeps headrace's own lines and the warnings
that come from the user's code; with ``verbose`` everything is streamed to it too.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from typing import IO, Any, TextIO

from headrace_core.layout import PipelineLayout

__all__ = [
    "NodeOutput",
    "active_output",
    "node_scope",
    "report_progress",
    "user_frame",
    "user_frame_in_text",
]

_ACTIVE: NodeOutput | None = None
_SCOPE = threading.local()
_HEADRACE_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = {sysconfig.get_path("stdlib"), sysconfig.get_path("purelib"), sys.prefix}
    return tuple(os.path.realpath(p) for p in paths if p)


def is_user_file(path: str) -> bool:
    """Whether ``path`` is the user's code: not the standard library, not an installed
    package, not headrace itself."""
    if not path or path.startswith("<"):
        return False
    real = os.path.realpath(path)
    if "site-packages" in real or "dist-packages" in real:
        return False
    if real.startswith(_HEADRACE_DIR + os.sep) or any(
        real.startswith(d + os.sep) for d in _library_dirs()
    ):
        return False
    # Editable installs of headrace's own packages live in the repository, not site-packages;
    # the user-code loader's copies of module files are the user's.
    package = os.path.basename(os.path.dirname(real))
    return not package.startswith("headrace_") or package.startswith("headrace_user_")


def user_frame(error: BaseException) -> str | None:
    """``file:line, in function`` of the innermost frame of ``error`` in the user's code."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if is_user_file(frame.filename):
            found = frame
    if found is None:
        return None
    return f"{found.filename}:{found.lineno}, in {found.name}"


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)', re.MULTILINE)


def user_frame_in_text(text: str) -> tuple[str, int, str] | None:
    """``(file, line, function)`` of the innermost frame in the user's code of a traceback
    as text (the ``error`` an execution records), for readers of the store."""
    found = None
    for filename, line, function in _FRAME.findall(text or ""):
        if is_user_file(filename):
            found = (filename, int(line), function)
    return found


def active_output() -> NodeOutput | None:
    return _ACTIVE


@contextlib.contextmanager
def node_scope(node_id: str) -> Iterator[None]:
    """Attribute this thread's output to ``node_id`` while it runs an executor."""
    output = _ACTIVE
    previous = getattr(_SCOPE, "node", None)
    _SCOPE.node = node_id
    if output is not None:
        output.started(node_id)
    try:
        yield
    finally:
        _SCOPE.node = previous
        if output is not None:
            # What the node wrote and is still in a buffer or the pipe is the node's.
            output.sync()
            output.finished(node_id)


class _NodeHandler(logging.Handler):
    """Log records raised in a node's thread go to that node's log."""

    def __init__(self, output: NodeOutput) -> None:
        super().__init__(logging.INFO)
        self.output = output
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        node = getattr(_SCOPE, "node", None)
        try:
            text = self.format(record) + "\n"
        except Exception:  # a record that cannot be formatted must not fail the node
            return
        self.output.write(node, text.encode("utf-8", "replace"))
        if record.levelno >= logging.WARNING and is_user_file(record.pathname):
            self.output.to_console(f"{node or 'headrace'}: {text}")


class _ThreadStream:
    """Stands in for ``sys.stdout``/``sys.stderr``: a thread running a node writes to the
    node's log, any other thread to the stream it replaces. A proxy that outlives its run
    (kept by a handler made during it) writes through."""

    def __init__(self, output: NodeOutput, stream: TextIO) -> None:
        self._output = output
        self._stream = stream

    def write(self, text: str) -> int:
        node = getattr(_SCOPE, "node", None)
        if node is None or _ACTIVE is not self._output:
            return self._stream.write(text)
        self._output.write(node, text.encode("utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_TOKEN = b"\0headrace-sync-"


class NodeOutput:
    """Routes this process's output to per-node logs while a run is in progress.

    Nothing here may stop the pump: a log that cannot be written (a full disk, a removed
    folder) loses its data, never the run, because a pump that stopped reading would block
    every writer of file descriptors 1 and 2.
    """

    def __init__(
        self, layout: PipelineLayout, run_id: str, *, verbose: bool = False, console_fd: int = 1
    ) -> None:
        self.layout = layout
        self.run_id = run_id
        self.verbose = verbose
        self.console_fd = console_fd
        self.console: TextIO = sys.stdout
        self._reported: dict[str, str] = {}
        self._pending: dict[bytes, threading.Event] = {}
        self._syncs = 0
        self._running: list[str] = []
        self._files: dict[str | None, IO[bytes]] = {}
        self._last: dict[str, str] = {}
        # Re-entrant: a finalizer run by garbage collection inside write() may log too.
        self._lock = threading.RLock()
        self._closed = False
        self._saved: tuple[int, int] | None = None
        self._pump: threading.Thread | None = None
        self._read_end = -1
        self._handler: _NodeHandler | None = None
        self._showwarning: Any = None
        self._saved_streams: tuple[Any, Any] | None = None

    # Starting and stopping -----------------------------------------------------------------

    def __enter__(self) -> NodeOutput:
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("node output is already being captured in this process")
        os.makedirs(self.layout.logs(self.run_id), exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self.console = open(
            os.dup(self._saved[self.console_fd - 1]),
            "w",
            encoding="utf-8",
            errors="replace",
            buffering=1,
        )
        self._read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        # Python-level writes are attributed by thread, exactly; only what is written to the
        # descriptors directly (C++ logging, child processes) is shared by running nodes.
        self._saved_streams = (sys.stdout, sys.stderr)
        sys.stdout = _ThreadStream(self, sys.stdout)
        sys.stderr = _ThreadStream(self, sys.stderr)
        self._pump = threading.Thread(target=self._read, name="headrace-node-output", daemon=True)
        self._pump.start()
        self._handler = _NodeHandler(self)
        logging.getLogger().addHandler(self._handler)
        self._showwarning = warnings.showwarning
        warnings.showwarning = self._warning
        _ACTIVE = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        _ACTIVE = None
        warnings.showwarning = self._showwarning
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
        if self._saved_streams is not None:
            sys.stdout, sys.stderr = self._saved_streams
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        assert self._saved is not None
        # Restoring both descriptors closes this process's write ends of the pipe: the pump
        # reads what is left and sees the end, unless a child process still holds one.
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        if self._pump is not None:
            self._pump.join(timeout=5)
        with self._lock:
            self._closed = True  # a pump still reading (for a child) now drops what it reads
            for f in self._files.values():
                with contextlib.suppress(OSError):
                    f.close()
            self._files.clear()
        self.console.flush()
        self.console.close()
        self.console = sys.stdout

    # Routing -------------------------------------------------------------------------------

    def started(self, node_id: str) -> None:
        with self._lock:
            self._running.append(node_id)

    def finished(self, node_id: str) -> None:
        with self._lock:
            if node_id in self._running:
                self._running.remove(node_id)
            f = self._files.pop(node_id, None)
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()

    def sync(self) -> None:
        """Return once everything written to this process's output so far is routed."""
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        if self._pump is None or not self._pump.is_alive() or self._closed:
            return
        with self._lock:
            self._syncs += 1
            token = _TOKEN + f"{self._syncs}".encode() + b"\0"
            done = self._pending[token] = threading.Event()
        try:
            os.write(1, token)
        except OSError:
            return
        done.wait(timeout=5)

    def _read(self) -> None:
        pending = b""
        try:
            while True:
                try:
                    chunk = os.read(self._read_end, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                chunk, pending = pending + chunk, b""
                while _TOKEN in chunk:
                    start = chunk.index(_TOKEN)
                    end = chunk.find(b"\0", start + 1)
                    if end < 0:  # a token split across reads: wait for its end
                        chunk, pending = chunk[:start], chunk[start:]
                        break
                    self._route(chunk[:start])
                    with self._lock:
                        done = self._pending.pop(chunk[start : end + 1], None)
                    if done is not None:
                        done.set()
                    chunk = chunk[end + 1 :]
                self._route(chunk)
        finally:
            # The pump owns the read end: closing it from another thread while it reads would
            # let it read a descriptor number the process has given to something else.
            with contextlib.suppress(OSError):
                os.close(self._read_end)

    def _route(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.write(None, chunk, stream=False)
        if self.verbose:
            self.to_console(chunk.decode("utf-8", "replace"))

    def _file(self, node: str | None) -> IO[bytes]:
        f = self._files.get(node)
        if f is None:
            path = (
                self.layout.node_log(self.run_id, node)
                if node
                else self.layout.run_log(self.run_id)
            )
            os.makedirs(os.path.dirname(path), exist_ok=True)
            f = self._files[node] = open(path, "ab")  # noqa: SIM115 - kept open while it runs
        return f

    def write(self, node: str | None, data: bytes, *, stream: bool = True) -> None:
        """Append ``data`` to ``node``'s log; with no node (a thread a node started, a
        descriptor), to each running node's, or the run's when none runs. Streamed to the
        console with verbose."""
        with self._lock:
            if self._closed:
                return
            targets: list[str | None] = [node] if node else list(self._running) or [None]
            for target in targets:
                try:
                    f = self._file(target)
                    f.write(data)
                    f.flush()
                except (OSError, ValueError):
                    continue  # this log is lost, not the run
                if target:
                    text = data.decode("utf-8", "replace").splitlines()
                    lines = [x for x in text if x.strip()]
                    if lines:
                        self._last[target] = lines[-1].strip()
        if self.verbose and stream:
            self.to_console(data.decode("utf-8", "replace"))

    def to_console(self, text: str) -> None:
        with contextlib.suppress(ValueError, OSError):
            self.console.write(text)
            self.console.flush()

    def report(self, node_id: str, message: str) -> None:
        with self._lock:
            self._reported[node_id] = message

    def progress(self, node_id: str) -> str:
        """Where ``node_id`` is, for a progress line: what its executor last reported, else
        the last line it printed."""
        with self._lock:
            return self._reported.get(node_id) or self._last.get(node_id, "")

    def _warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        node = getattr(_SCOPE, "node", None)
        self.write(node, text.encode("utf-8", "replace"))
        if is_user_file(filename) and not self.verbose:
            self.to_console(f"{node or 'headrace'}: {text}")


def _after_fork_in_child() -> None:
    # A forked child inherits the lock in whatever state some thread held it, and none of
    # the threads: give it a fresh lock (its output still reaches the pipe).
    output = _ACTIVE
    if output is not None:
        output._lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def report_progress(message: str) -> None:
    """Say where the running node is ("epoch 3/10", "read 12,000 records"): shown on the
    console's progress line for it. Does nothing outside a captured run."""
    node = getattr(_SCOPE, "node", None)
    output = _ACTIVE
    if node is not None and output is not None:
        output.report(node, message)
