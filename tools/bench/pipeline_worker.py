"""Runs a benchmark pipeline in one process for tools/bench/run.py; prints one JSON line.

    pipeline_worker.py runner  PIPELINE_FILE ROOT [--stores N] [--reruns N]
    pipeline_worker.py history PIPELINE_FILE ROOT --snapshots DIR --checkpoints 10,100,1000
                               [--repeat N] [--profile PREFIX] [--profile-runs N]

Everything is measured around ``LocalDagRunner(...).run(pipeline)`` in this process: imports
(ml_metadata alone takes ~350 ms) and plugin discovery happen before any clock starts and are
reported separately. Progress goes to stderr, the result to stdout.

How executor time is separated from framework overhead: ``FunctionExecutor.Do`` is wrapped
with a timer (every ``@component`` executor inherits it), so the measured executor time is the
whole ``Do``: argument marshalling, the function body and writing the return value into its
value artifact. The framework overhead of a run is its wall time minus the summed ``Do`` time,
divided by the number of nodes. On a chain nodes run one after the other, so this is exact; on
a DAG where ``Do`` calls can overlap, summing them overstates the executor share, but the bodies
here are ``x + 1`` (a fraction of a millisecond) so the error is negligible.

Time inside ML Metadata is measured the same way, by wrapping ``MetadataStore._retry``: every
store call goes through it while holding the store's lock, so the sum is wall time spent in
MLMD (SQLite and its fsyncs included), never overlapping. ``MetadataStore.call`` is wrapped to
time and count calls by method; ``put_*`` calls are the writes, one SQLite transaction each.

The disk of a shared machine is noisy (a SQLite commit takes 0.3 ms one minute and 20 ms the
next), so figures that are compared are measured interleaved: ``runner`` runs its first runs on
several fresh stores and alternates the cached reruns between them; ``history`` copies the
store at each checkpoint (SQLite's backup API, between runs) and then times cached reruns
against the copies in rotation, so that 10 and 1,000 runs of history see the same disk.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class _Clock:
    """Summed time and number of calls of a wrapped function, safe across threads."""

    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                with self._lock:
                    self.total += elapsed
                    self.calls += 1

        return timed

    def reset(self) -> None:
        with self._lock:
            self.total, self.calls = 0.0, 0


EXECUTOR = _Clock()
MLMD = _Clock()
METHODS: Counter[str] = Counter()  # MLMD calls by method
METHOD_TIME: defaultdict[str, float] = defaultdict(float)  # seconds by method (lock wait included)
_METHODS_LOCK = threading.Lock()
UNWRAPPED: dict[str, Any] = {}


def _counted(call: Callable[..., Any]) -> Callable[..., Any]:
    def counted(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(self, method, *args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            with _METHODS_LOCK:
                METHODS[method] += 1
                METHOD_TIME[method] += elapsed

    return counted


def _warm_up() -> dict[str, float]:
    """Import everything a run needs and discover plugins, before any clock starts."""
    start = time.perf_counter()
    import ml_metadata.metadata_store.metadata_store
    import ml_metadata.proto.metadata_store_pb2  # noqa: F401

    from headrace_core import function, metadata
    from headrace_core.orchestration import local  # noqa: F401

    imported = time.perf_counter()
    from headrace_core.plugins.manager import get_plugin_manager

    get_plugin_manager()
    plugins = time.perf_counter()
    UNWRAPPED["Do"] = function.FunctionExecutor.Do
    UNWRAPPED["_retry"] = metadata.MetadataStore._retry
    UNWRAPPED["call"] = metadata.MetadataStore.call
    function.FunctionExecutor.Do = EXECUTOR.wrap(function.FunctionExecutor.Do)  # type: ignore[method-assign]
    metadata.MetadataStore._retry = MLMD.wrap(metadata.MetadataStore._retry)  # type: ignore[method-assign]
    metadata.MetadataStore.call = _counted(metadata.MetadataStore.call)  # type: ignore[method-assign]
    return {"imports": imported - start, "plugins": plugins - imported}


def _load(pipeline_file: str, root: str) -> Any:
    os.environ["BENCH_ROOT"] = root
    from headrace_core.pipeline_file import load_pipeline_file

    return load_pipeline_file(pipeline_file)


def _timed_run(pipeline: Any, expect: str, **runner_args: Any) -> dict[str, Any]:
    """One ``LocalDagRunner(**runner_args).run(pipeline)``; every node must end ``expect``."""
    from headrace_core.orchestration.local import LocalDagRunner

    EXECUTOR.reset()
    MLMD.reset()
    with _METHODS_LOCK:
        METHODS.clear()
        METHOD_TIME.clear()
    start = time.perf_counter()
    result = LocalDagRunner(**runner_args).run(pipeline)
    wall = time.perf_counter() - start
    statuses = Counter(r.status for r in result.results.values())
    if not result.succeeded or set(statuses) != {expect}:
        raise SystemExit(f"expected every node {expect}, got {dict(statuses)} {result.not_run}")
    return {
        "wall": wall,
        "nodes": len(result.results),
        "executor": EXECUTOR.total,
        "executor_calls": EXECUTOR.calls,
        "mlmd": MLMD.total,
        "mlmd_calls": sum(METHODS.values()),
        "mlmd_writes": sum(v for k, v in METHODS.items() if k.startswith("put_")),
        "methods": dict(METHODS),
        "method_time": dict(METHOD_TIME),
    }


def runner(args: argparse.Namespace) -> dict[str, Any]:
    """First runs on ``--stores`` fresh stores, then ``--reruns`` rounds of cached reruns."""
    warm = _warm_up()
    pipelines = [
        _load(args.pipeline_file, os.path.join(args.root, str(i))) for i in range(args.stores)
    ]
    first = [_timed_run(p, "complete") for p in pipelines]
    cached = [_timed_run(p, "cached") for _ in range(args.reruns) for p in pipelines]
    return {"warm_up": warm, "first": first, "cached": cached}


class _InlinePool:
    """Stands in for the runner's ThreadPoolExecutor while profiling: cProfile sees only the
    thread that enabled it, so every node runs in the calling thread instead."""

    def __init__(self, max_workers: int | None = None) -> None:
        pass

    def __enter__(self) -> _InlinePool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:
            future.set_exception(e)
        return future


def _profile_rows(stats: pstats.Stats, runs: int) -> dict[str, dict[str, float]]:
    """Per-run average ncalls, tottime and cumtime of every function, by a short name."""
    rows = {}
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = filename.split("site-packages/")[-1].split("/src/")[-1]
        rows[f"{where}:{line}({name})"] = {
            "ncalls": ncalls / runs,
            "tottime": tottime / runs,
            "cumtime": cumtime / runs,
        }
    return rows


def _profile(pipeline: Any, urls: dict[str, str], prefix: str, runs: int) -> dict[str, Any]:
    """cProfile ``runs`` cached reruns against each store in ``urls`` (label -> URL), in
    rotation; writes ``{prefix}-{label}.prof`` and returns per-run averages by function."""
    from headrace_core import function, metadata
    from headrace_core.orchestration import local

    # Profile the code as it is: without the thread pool, and without this file's wrappers.
    patches = [
        (local, "ThreadPoolExecutor", _InlinePool),
        (function.FunctionExecutor, "Do", UNWRAPPED["Do"]),
        (metadata.MetadataStore, "_retry", UNWRAPPED["_retry"]),
        (metadata.MetadataStore, "call", UNWRAPPED["call"]),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    profilers = {label: cProfile.Profile() for label in urls}
    walls: dict[str, list[float]] = {label: [] for label in urls}
    try:
        for _ in range(runs):
            for label, url in urls.items():
                start = time.perf_counter()
                profilers[label].enable()
                local.LocalDagRunner(max_parallel=1, metadata_url=url).run(pipeline)
                profilers[label].disable()
                walls[label].append(time.perf_counter() - start)
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
    out = {}
    for label, profiler in profilers.items():
        path = f"{prefix}-{label}.prof"
        profiler.dump_stats(path)
        out[label] = {
            "file": path,
            "wall": statistics.median(walls[label]),
            "functions": _profile_rows(pstats.Stats(path), runs),
        }
    return out


_SNAPSHOT = """
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
try:
    src.backup(dst)
finally:
    dst.close()
    src.close()
"""


def _snapshot(source: str, target: str) -> None:
    """A consistent copy of a SQLite store, taken between runs, in a process of its own: this
    one holds the store open through MLMD's SQLite, and a second SQLite library in one process
    breaks the other's locks when it closes (with WAL, it may checkpoint and delete the -wal
    file under MLMD's connection)."""
    subprocess.run([sys.executable, "-c", _SNAPSHOT, source, target], check=True)


def history(args: argparse.Namespace) -> dict[str, Any]:
    warm = _warm_up()
    pipeline = _load(args.pipeline_file, args.root)
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    store = os.path.join(args.root, "metadata.sqlite")
    urls = {
        c: "sqlite:///" + os.path.join(args.snapshots, f"history-{c}.sqlite") for c in checkpoints
    }
    done = 0
    generation = 0.0
    recent: list[float] = []
    started = time.monotonic()
    for checkpoint in checkpoints:
        while done < checkpoint:
            r = _timed_run(pipeline, "complete" if done == 0 else "cached")
            done += 1
            generation += r["wall"]
            recent.append(r["wall"])
            if done % args.progress_every == 0 or done == checkpoint:
                mean = statistics.mean(recent)
                left = (checkpoints[-1] - done) * mean
                print(
                    f"    history: {done:5d}/{checkpoints[-1]} runs in the store, last "
                    f"{len(recent):3d} runs {mean * 1000:5.0f} ms each, "
                    f"{time.monotonic() - started:4.0f}s elapsed, ~{left:4.0f}s left",
                    file=sys.stderr,
                    flush=True,
                )
                recent = []
        _snapshot(store, urls[checkpoint][len("sqlite:///") :])

    print(
        f"    timing {args.repeat} cached reruns against each copy, in rotation ...",
        file=sys.stderr,
        flush=True,
    )
    runs: dict[int, list[dict[str, Any]]] = {c: [] for c in checkpoints}
    for round_ in range(args.repeat):
        order = checkpoints[round_ % len(checkpoints) :] + checkpoints[: round_ % len(checkpoints)]
        for checkpoint in order:
            runs[checkpoint].append(_timed_run(pipeline, "cached", metadata_url=urls[checkpoint]))
    measured = {}
    for c in checkpoints:
        walls = [r["wall"] for r in runs[c]]
        print(
            f"    {c:5d} earlier runs: cached rerun "
            + ", ".join(f"{w * 1000:.0f}" for w in walls)
            + " ms",
            file=sys.stderr,
            flush=True,
        )
        measured[str(c)] = {
            "wall": statistics.median(walls),
            "walls": walls,
            "mlmd": statistics.median(r["mlmd"] for r in runs[c]),
            "mlmd_calls": runs[c][0]["mlmd_calls"],
            "method_time": {
                m: statistics.median(r["method_time"].get(m, 0.0) for r in runs[c])
                for m in runs[c][0]["method_time"]
            },
            "methods": runs[c][0]["methods"],
            "url": urls[c],
        }
    out: dict[str, Any] = {"warm_up": warm, "generation_s": generation, "checkpoints": measured}
    if args.profile:
        lo, hi = checkpoints[0], checkpoints[-1]
        print(
            f"    profiling {args.profile_runs} cached reruns against the {lo}- and {hi}-run "
            "copies ...",
            file=sys.stderr,
            flush=True,
        )
        out["profile"] = _profile(
            pipeline, {str(lo): urls[lo], str(hi): urls[hi]}, args.profile, args.profile_runs
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    p_runner = sub.add_parser("runner")
    p_history = sub.add_parser("history")
    for p in (p_runner, p_history):
        p.add_argument("pipeline_file")
        p.add_argument("root")
    p_runner.add_argument("--stores", type=int, default=3)
    p_runner.add_argument("--reruns", type=int, default=3)
    p_history.add_argument("--snapshots", required=True)
    p_history.add_argument("--checkpoints", required=True)
    p_history.add_argument("--repeat", type=int, default=7)
    p_history.add_argument("--progress-every", type=int, default=100)
    p_history.add_argument("--profile", metavar="PREFIX", help="write PREFIX-<checkpoint>.prof")
    p_history.add_argument("--profile-runs", type=int, default=5)
    args = parser.parse_args()
    result = runner(args) if args.mode == "runner" else history(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
