"""headrace benchmarks. Prints each figure beside its target or baseline; writes JSON too.

nox -s bench                 # all benchmarks
nox -s bench -- startup      # only the named groups
nox -s bench -- runner history   # the runner in one process; cached reruns against history
nox -s bench -- beam_workers     # taxi's Beam part on 1,000,000 rows, 1 vs 2 Beam workers
nox -s bench -- celery           # penguin through Celery on 2 workers vs the local runner
nox -s bench -- ui               # every headrace ui page on 1,000 runs / 10,000 executions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"
WORKER = Path(__file__).resolve().parent / "pipeline_worker.py"
DATA_WORKER = Path(__file__).resolve().parent / "data_worker.py"
BEAM_WORKERS_WORKER = Path(__file__).resolve().parent / "beam_workers_worker.py"
CELERY_WORKER = Path(__file__).resolve().parent / "celery_worker.py"

RUNNER_NODES = 50
RUNNER_ROUNDS = 2  # worker processes per shape, alternating chain and grid
RUNNER_STORES = 2  # fresh stores per worker: a first run on each, then cached reruns
RUNNER_RERUNS = 3  # rounds of cached reruns over a worker's stores
# Whole `headrace run` processes on small chains: interpreter, imports, plugins, MLMD and all.
PROCESS_NODES = (10, 50)  # the per-node cost is the difference of first runs over the nodes
PROCESS_ROUNDS = 5  # fresh stores per size, the sizes alternating
GRID_WIDTH = 7  # the grid variant: Start + 7 layers of 7 nodes = 50 nodes
# History: 1,000 cached runs of the 50-node chain take ~10-20 min on a small machine (and grow
# with the history), so the history group uses a 10-node chain, the same for every figure.
HISTORY_NODES = 10
HISTORY_CHECKPOINTS = (10, 100, 1000)
HISTORY_REPEAT = 15  # cached reruns measured at each checkpoint; the median is reported
HISTORY_PROFILE_RUNS = 5  # profiled cached reruns against the first and the last checkpoint
# The data group: real data sets live in <repo>/../shared/data (override with HEADRACE_TEST_DATA).
DATA = Path(os.environ.get("HEADRACE_TEST_DATA") or ROOT.parent / "shared" / "data")
SYNTHETIC_ROWS = 1_000_000
DATA_ROUNDS = 1  # worker processes per side and data set, alternating pipeline and direct

Row = tuple[str, float, str, str]  # (what, value, unit, target or baseline)
GROUPS: dict[str, Callable[[], list[Row]]] = {}


def group(name: str) -> Callable[[Callable[[], list[Row]]], Callable[[], list[Row]]]:
    def register(fn: Callable[[], list[Row]]) -> Callable[[], list[Row]]:
        GROUPS[name] = fn
        return fn

    return register


def _check(value: float, limit: float, target: str) -> str:
    """The target, marked with whether ``value`` meets it (``value <= limit``)."""
    return f"{target:<10} {'ok' if value <= limit else 'MISSED'}"


def _median_wall(cmd: list[str], repeat: int = 7, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _import_time(module: str, repeat: int = 7) -> float:
    """Median in-process import time in a fresh interpreter (interpreter start excluded)."""
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    values = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        values.append(float(out.stdout.strip()))
    return statistics.median(values)


def _pipeline_file(directory: Path, nodes: int, shape: str = "chain") -> Path:
    """A pipeline of ``nodes`` no-op function components.

    ``chain``: Start -> step_000 -> step_001 -> ... (one node ready at a time).
    ``grid``: Start, then layers of ``GRID_WIDTH`` nodes; the first layer reads Start, every
    later node ``i`` adds the outputs of nodes ``i`` and ``i + 1`` (wrapping) of the layer
    before: ``GRID_WIDTH`` nodes ready at once and two inputs per node.
    """
    if shape not in ("chain", "grid"):
        raise ValueError(f"unknown pipeline shape {shape!r}")
    if shape == "grid" and (nodes - 1) % GRID_WIDTH:
        raise ValueError(f"a grid has 1 + a multiple of {GRID_WIDTH} nodes, not {nodes}")
    (directory / "bench_components.py").write_text(
        textwrap.dedent(
            """
            from headrace_core import component

            @component
            def Step(x: int) -> int:
                return x + 1

            @component
            def Add(a: int, b: int) -> int:
                return a + b

            @component
            def Start() -> int:
                return 0
            """
        )
    )
    if shape == "chain":
        body = f"""
            nodes = [Start()]
            for i in range({nodes} - 1):
                nodes.append(Step(x=nodes[-1].outputs["output"]).with_id(f"step_{{i:03d}}"))
            name = "bench"
        """
    else:
        body = f"""
            start = Start()
            width = {GRID_WIDTH}
            layer = [
                Step(x=start.outputs["output"]).with_id(f"l00_{{i}}") for i in range(width)
            ]
            nodes = [start, *layer]
            for depth in range(1, {(nodes - 1) // GRID_WIDTH}):
                layer = [
                    Add(
                        a=layer[i].outputs["output"], b=layer[(i + 1) % width].outputs["output"]
                    ).with_id(f"l{{depth:02d}}_{{i}}")
                    for i in range(width)
                ]
                nodes += layer
            name = "bench_grid"
        """
    (directory / "bench_pipeline.py").write_text(
        textwrap.dedent(
            """
            import os
            from headrace_core import Pipeline
            from bench_components import Add, Start, Step

            def create_pipeline():
            """
        )
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + '\n    root = os.environ.get("BENCH_ROOT", "/tmp/headrace-bench")'
        + "\n    return Pipeline(name, root, nodes)\n"
    )
    return directory / "bench_pipeline.py"


@group("startup")
def startup() -> list[Row]:
    python = _median_wall([sys.executable, "-c", "pass"])
    headrace = [sys.executable, "-m", "headrace_core.cli"]
    core = _import_time("headrace_core")
    help_ = _median_wall([*headrace, "--help"])
    return [
        ("python -c pass (interpreter start, baseline)", python * 1000, "ms", "baseline"),
        ("import headrace_core", core * 1000, "ms", _check(core, 0.150, "< 150 ms")),
        ("import ml_metadata (for scale)", _import_time("ml_metadata") * 1000, "ms", "baseline"),
        ("headrace --help (whole process)", help_ * 1000, "ms", _check(help_, 0.300, "< 300 ms")),
        ("headrace plugins (whole process)", _median_wall([*headrace, "plugins"]) * 1000, "ms", ""),
    ]


@group("compile")
def compile_bench() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        path = _pipeline_file(Path(tmp), 50)
        code = textwrap.dedent(
            f"""
            import time, sys
            sys.path.insert(0, {tmp!r})
            from headrace_core import ir
            from headrace_core.pipeline_file import load_pipeline_file
            t = time.perf_counter(); p = load_pipeline_file({str(path)!r}); t1 = time.perf_counter()
            doc = ir.compile(p); text = ir.dumps(doc); t2 = time.perf_counter()
            ir.load(text); t3 = time.perf_counter()
            print(t1 - t, t2 - t1, t3 - t2)
            """
        )
        runs = []
        for _ in range(5):
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            )
            runs.append([float(v) for v in out.stdout.split()])
        define, comp, load = (statistics.median(c) for c in zip(*runs, strict=True))
        whole = _median_wall(
            [sys.executable, "-m", "headrace_core.cli", "compile", str(path), "-o", os.devnull],
            repeat=5,
        )
    return [
        ("50-node pipeline: define (file import)", define * 1000, "ms", ""),
        ("50-node pipeline: compile to IR", comp * 1000, "ms", ""),
        ("50-node pipeline: load IR back", load * 1000, "ms", ""),
        ("headrace compile (whole process)", whole * 1000, "ms", ""),
    ]


def _sqlite_commit(repeat: int = 50, journal: str = "wal") -> float:
    """Median time to commit a one-row SQLite transaction in a temp dir (synchronous=FULL, as
    MLMD uses it; WAL, as headrace makes new stores, or ``delete``, the rollback journal): the
    disk's fsync latency, which every MLMD write pays. On a shared VM it changes from minute to
    minute, so each group measures it beside its figures."""
    import sqlite3

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "commit.sqlite", isolation_level=None)
        db.execute(f"PRAGMA journal_mode={journal}")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        for _ in range(repeat):
            start = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT INTO t (v) VALUES ('x')")
            db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        db.close()
    return statistics.median(times)


def _commit_row(when: str) -> Row:
    return (
        f"SQLite one-row commit in a temp dir (WAL), {when}",
        _sqlite_commit() * 1000,
        "ms",
        f"baseline; rollback journal {_sqlite_commit(journal='delete') * 1000:.2f} ms",
    )


def _worker(*args: str) -> dict[str, Any]:
    """Run tools/bench/pipeline_worker.py; its progress (stderr) shows as it comes."""
    out = subprocess.run(
        [sys.executable, str(WORKER), *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cli_cached_rerun(path: Path, root: Path, metadata: str | None = None) -> float:
    """Wall time of the whole ``headrace run`` process on a fully cached pipeline."""
    env = {**os.environ, "BENCH_ROOT": str(root)}
    cmd = [sys.executable, "-m", "headrace_core.cli", "run", str(path), "--json"]
    if metadata:
        cmd += ["--metadata", metadata]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    statuses = {n["status"] for n in json.loads(out.stdout)["nodes"].values()}
    if statuses != {"cached"}:
        raise RuntimeError(
            f"headrace run was not fully cached ({statuses}): did headrace_core change while "
            "the benchmark ran? (a new cache key definition re-runs every node)"
        )
    return took


def _cli_run(path: Path, root: Path) -> tuple[float, set[str]]:
    """Wall time of a whole ``headrace run`` process, and the statuses of its nodes."""
    env = {**os.environ, "BENCH_ROOT": str(root)}
    cmd = [sys.executable, "-m", "headrace_core.cli", "run", str(path), "--json"]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    return took, {n["status"] for n in json.loads(out.stdout)["nodes"].values()}


def _process_rows() -> list[Row]:
    """First runs on fresh stores and fully cached reruns, each a whole ``headrace run``
    process, for PROCESS_NODES-node chains in alternation; the marginal cost of a node is the
    difference between the first runs of the two sizes, over the difference in nodes."""
    small, large = PROCESS_NODES
    first: dict[int, list[float]] = {n: [] for n in PROCESS_NODES}
    cached: dict[int, list[float]] = {n: [] for n in PROCESS_NODES}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in PROCESS_NODES:
            (Path(tmp) / f"chain{n}").mkdir()
            paths[n] = _pipeline_file(Path(tmp) / f"chain{n}", n)
        for round_ in range(PROCESS_ROUNDS):
            for n in PROCESS_NODES:
                root = Path(tmp) / f"chain{n}" / f"root{round_}"
                took, statuses = _cli_run(paths[n], root)
                if statuses != {"complete"}:
                    raise RuntimeError(f"a first run of the {n}-node chain ended {statuses}")
                first[n].append(took)
                cached[n].append(_cli_cached_rerun(paths[n], root))
    marginal = statistics.median(
        (b - a) / (large - small) for a, b in zip(first[small], first[large], strict=True)
    )
    median = statistics.median
    return [
        (
            f"headrace run, {small}-node chain, first run (whole process)",
            median(first[small]) * 1000,
            "ms",
            _check(median(first[small]), 0.200, "<= 200 ms") + f"  (median of {PROCESS_ROUNDS})",
        ),
        (
            f"headrace run, {small}-node chain, cached rerun (whole process)",
            median(cached[small]) * 1000,
            "ms",
            _check(median(cached[small]), 0.150, "<= 150 ms"),
        ),
        (
            f"headrace run, {large}-node chain, first run (whole process)",
            median(first[large]) * 1000,
            "ms",
            "",
        ),
        (
            f"headrace run, {large}-node chain, cached rerun (whole process)",
            median(cached[large]) * 1000,
            "ms",
            "",
        ),
        (
            f"headrace run, first run, marginal cost per node ({small} -> {large} nodes)",
            marginal * 1000,
            "ms",
            _check(marginal, 0.003, "<= 3 ms"),
        ),
    ]


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


@group("runner")
def runner_bench() -> list[Row]:
    """LocalDagRunner in one process on fresh SQLite stores, then fully cached reruns.

    RUNNER_ROUNDS rounds, each starting one worker process per shape (chain, then grid, so the
    shapes share the disk's noisy moments); each worker makes first runs on RUNNER_STORES fresh
    stores, then RUNNER_RERUNS rounds of cached reruns alternating between those stores. Medians
    over all of them are reported. Framework overhead per node = (first-run wall time - summed
    FunctionExecutor.Do time) / nodes; see tools/bench/pipeline_worker.py for how each part is
    timed.
    """
    rows: list[Row] = [_commit_row("before")]
    n = RUNNER_NODES
    shapes = ("chain", "grid")
    first: dict[str, list[dict[str, Any]]] = {shape: [] for shape in shapes}
    cached: dict[str, list[dict[str, Any]]] = {shape: [] for shape in shapes}
    warm: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for shape in shapes:
            (Path(tmp) / shape).mkdir()
            paths[shape] = _pipeline_file(Path(tmp) / shape, n, shape)
        for round_ in range(RUNNER_ROUNDS):
            for shape in shapes:
                data = _worker(
                    "runner",
                    str(paths[shape]),
                    str(Path(tmp) / shape / f"root{round_}"),
                    "--stores",
                    str(RUNNER_STORES),
                    "--reruns",
                    str(RUNNER_RERUNS),
                )
                first[shape] += data["first"]
                cached[shape] += data["cached"]
                warm.append(data["warm_up"])
        stores = [
            Path(tmp) / "chain" / f"root{r}" / str(i)
            for r in range(RUNNER_ROUNDS)
            for i in range(RUNNER_STORES)
        ]
        whole = statistics.median(_cli_cached_rerun(paths["chain"], store) for store in stores)
    rows += [
        ("warm-up (not timed below): imports", _median(warm, "imports") * 1000, "ms", ""),
        ("warm-up (not timed below): plugin discovery", _median(warm, "plugins") * 1000, "ms", ""),
    ]
    for shape in shapes:
        f, c = first[shape], cached[shape]
        label = f"{n}-node {shape}" if shape == "chain" else f"{n}-node grid {GRID_WIDTH}x7"
        overhead = statistics.median((r["wall"] - r["executor"]) / r["nodes"] for r in f)
        wall = _median(c, "wall")
        rows += [
            (f"{label}: first run, wall", _median(f, "wall") * 1000, "ms", f"median of {len(f)}"),
            (
                f"{label}: first run, executor time (sum of Do)",
                _median(f, "executor") * 1000,
                "ms",
                f"{f[0]['executor_calls']} calls",
            ),
            (
                f"{label}: first run, overhead per node",
                overhead * 1000,
                "ms",
                _check(overhead, 0.020, "<= 20 ms"),
            ),
            (
                f"{label}: first run, in MLMD per node (calls, writes)",
                _median(f, "mlmd") / n * 1000,
                "ms",
                f"{f[0]['mlmd_calls'] / n:.1f} calls, {f[0]['mlmd_writes'] / n:.1f} writes",
            ),
            (
                f"{label}: cached rerun in-process, wall",
                wall * 1000,
                "ms",
                _check(wall, 1.0, "< 1000 ms") + f"  (median of {len(c)})",
            ),
            (
                f"{label}: cached rerun, in MLMD (calls, writes per node)",
                _median(c, "mlmd") * 1000,
                "ms",
                f"{c[0]['mlmd_calls'] / n:.1f} calls, {c[0]['mlmd_writes'] / n:.1f} writes",
            ),
        ]
        if shape == "chain":
            rows.append(
                (
                    "headrace run, cached rerun of the chain (whole process)",
                    whole * 1000,
                    "ms",
                    f"median of {len(stores)}",
                )
            )
    rows += _process_rows()
    rows.append(_commit_row("after"))
    return rows


def _print_profiles(low: dict[str, Any], high: dict[str, Any], lo: int, hi: int) -> None:
    """The cProfile of cached reruns with ``hi`` runs of history, and what grew since ``lo``."""
    print(
        f"  cProfile of a cached rerun with {hi} earlier runs, nodes run inline one at a time "
        f"(average of {HISTORY_PROFILE_RUNS} runs, median wall {high['wall'] * 1000:.0f} ms; "
        f"{lo} earlier runs: {low['wall'] * 1000:.0f} ms); files: "
        f"{Path(high['file']).relative_to(ROOT)}, {Path(low['file']).name}"
    )
    print(f"    top by cumulative time, ms per run, {hi} earlier runs:")
    print(f"    {'ncalls':>7} {'tottime':>8} {'cumtime':>8}  function")
    functions = high["functions"]
    for name in sorted(functions, key=lambda f: -functions[f]["cumtime"])[:25]:
        f = functions[name]
        print(
            f"    {f['ncalls']:7.0f} {f['tottime'] * 1000:8.1f} {f['cumtime'] * 1000:8.1f}  {name}"
        )
    grew = {
        name: f["cumtime"] - low["functions"].get(name, {"cumtime": 0.0})["cumtime"]
        for name, f in functions.items()
    }
    print(f"    grew most from {lo} to {hi} earlier runs (cumulative ms per run):")
    for name in sorted(grew, key=lambda f: -grew[f])[:12]:
        before = low["functions"].get(name, {"cumtime": 0.0})["cumtime"]
        print(
            f"    {before * 1000:8.1f} -> {functions[name]['cumtime'] * 1000:8.1f}  "
            f"(+{grew[name] * 1000:6.1f})  {name}"
        )


@group("history")
def history_bench() -> list[Row]:
    """A fully cached rerun with 10, 100 and 1,000 earlier runs of the same pipeline stored.

    History is made of real runs in one process on one SQLite store (the first run executes,
    every later one is fully cached). At each checkpoint the store is copied; the copies are
    then timed in rotation (HISTORY_REPEAT cached reruns each, median reported), so the disk's
    noise falls on every checkpoint alike. Each timed rerun adds a run to its copy: the "10
    earlier runs" copy holds 10 to 24. Cached reruns against the 10- and the 1,000-run copies
    are profiled (cProfile, written to bench-results/); the top functions and those that grew
    most are printed.
    """
    n = HISTORY_NODES
    checkpoints = ",".join(str(c) for c in HISTORY_CHECKPOINTS)
    RESULTS.mkdir(exist_ok=True)
    profile = RESULTS / f"history-profile-{time.strftime('%Y%m%d-%H%M%S')}"
    before = _commit_row("before")
    with tempfile.TemporaryDirectory() as tmp:
        path = _pipeline_file(Path(tmp), n)
        root = Path(tmp) / "root"
        print(
            f"  {n}-node chain; generating {HISTORY_CHECKPOINTS[-1]} runs of history (minutes) ...",
            flush=True,
        )
        data = _worker(
            "history",
            str(path),
            str(root),
            "--snapshots",
            tmp,
            "--checkpoints",
            checkpoints,
            "--repeat",
            str(HISTORY_REPEAT),
            "--profile",
            str(profile),
            "--profile-runs",
            str(HISTORY_PROFILE_RUNS),
        )
        points = data["checkpoints"]
        low, high = points[str(HISTORY_CHECKPOINTS[0])], points[str(HISTORY_CHECKPOINTS[-1])]
        cli: dict[str, list[float]] = {"low": [], "high": []}
        for _ in range(3):
            cli["low"].append(_cli_cached_rerun(path, root, low["url"]))
            cli["high"].append(_cli_cached_rerun(path, root, high["url"]))
        size_low = Path(low["url"][len("sqlite:///") :]).stat().st_size
        size_high = Path(high["url"][len("sqlite:///") :]).stat().st_size
    ratio = high["wall"] / low["wall"]
    lo, hi = HISTORY_CHECKPOINTS[0], HISTORY_CHECKPOINTS[-1]
    _print_profiles(data["profile"][str(lo)], data["profile"][str(hi)], lo, hi)
    rows: list[Row] = [before, _commit_row("after")]
    for checkpoint in HISTORY_CHECKPOINTS:
        m = points[str(checkpoint)]
        rows.append(
            (
                f"{n}-node chain: cached rerun, {checkpoint} earlier runs",
                m["wall"] * 1000,
                "ms",
                f"in MLMD {m['mlmd'] * 1000:.0f} ms",
            )
        )
    rows += [
        (f"ratio {hi} / {lo} earlier runs", ratio, "x", _check(ratio, 1.5, "<= 1.5")),
        (f"ratio of time in MLMD, {hi} / {lo}", high["mlmd"] / low["mlmd"], "x", ""),
    ]
    # Where the time of a rerun goes, by MLMD method: what grows with history shows here.
    for method in sorted(high["method_time"], key=lambda m: -high["method_time"][m]):
        t_lo, t_hi = low["method_time"].get(method, 0.0), high["method_time"][method]
        if max(t_lo, t_hi) < 0.002:
            continue
        rows.append(
            (
                f"  in {method}, {hi} earlier runs",
                t_hi * 1000,
                "ms",
                f"{t_lo * 1000:.1f} ms at {lo} runs; {high['methods'][method]} calls per rerun",
            )
        )
    rows += [
        (
            f"headrace run, cached rerun (whole process), {lo} earlier runs",
            statistics.median(cli["low"]) * 1000,
            "ms",
            "",
        ),
        (
            f"headrace run, cached rerun (whole process), {hi} earlier runs",
            statistics.median(cli["high"]) * 1000,
            "ms",
            "",
        ),
        (f"generating the history ({hi} runs)", data["generation_s"], "s", ""),
        (
            f"metadata.sqlite size, {hi} runs",
            size_high / 1e6,
            "MB",
            f"{(size_high - size_low) / (hi - lo) / 1e3:.1f} kB per run",
        ),
    ]
    return rows


def _synthetic_csv(source: Path, rows: int) -> Path:
    """A taxi-like CSV of ``rows`` rows: the source's rows cycled, each number given a small
    jitter (same type: integers stay integers). Cached under bench-results/, generated once."""
    import csv
    import random

    directory = RESULTS / f"data-synthetic-{rows}"
    path = directory / "data.csv"
    if path.exists():
        return directory
    print(f"  generating {rows:,} synthetic rows into {path.relative_to(ROOT)} ...", flush=True)
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        template = [row for row in reader if row]
    rng = random.Random(0)

    def jitter(cell: str) -> str:
        if not cell or cell[0] not in "-0123456789":
            return cell
        try:
            if "." in cell or "e" in cell:
                return repr(round(float(cell) * (1 + rng.uniform(-0.01, 0.01)), 6))
            value = int(cell)
        except ValueError:
            return cell
        return str(value + rng.randint(-1, 1)) if abs(value) > 100 else cell

    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / "data.csv.partial"
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            writer.writerow([jitter(c) for c in template[i % len(template)]])
    partial.rename(path)
    return directory


def _data_worker(side: str, csv_dir: Path, work: Path) -> dict[str, Any]:
    """One side of the data benchmark in a fresh process; adds its whole-process wall time."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(DATA_WORKER), side, str(csv_dir), str(work)],
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    took = time.perf_counter() - start
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    data["process"] = took
    return data


@group("data")
def data_bench() -> list[Row]:
    """CsvExampleGen -> StatisticsGen under LocalDagRunner (in-process) against the same work
    written directly with Beam, tfx-bsl and TFDV (tools/bench/data_worker.py), each side in a
    fresh process, on the Chicago taxi CSV and on a synthetic taxi-like CSV."""
    source = DATA / "chicago_taxi" / "data.csv"
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing (set HEADRACE_TEST_DATA)")
    with source.open(encoding="utf-8") as f:
        taxi_rows = sum(1 for line in f if line.strip()) - 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        taxi_dir = Path(tmp) / "taxi"
        taxi_dir.mkdir()
        (taxi_dir / "data.csv").symlink_to(source)
        sets = [
            ("chicago taxi", taxi_dir, taxi_rows),
            (
                f"synthetic {SYNTHETIC_ROWS:,}",
                _synthetic_csv(source, SYNTHETIC_ROWS),
                SYNTHETIC_ROWS,
            ),
        ]
        for label, csv_dir, n in sets:
            runs: dict[str, list[dict[str, Any]]] = {"pipeline": [], "direct": []}
            for round_ in range(DATA_ROUNDS):
                for side in ("pipeline", "direct"):
                    print(f"  {label}: {side} (round {round_ + 1}) ...", flush=True)
                    work = Path(tmp) / f"{label.split()[0]}-{side}-{round_}"
                    runs[side].append(_data_worker(side, csv_dir, work))
            for side, found in runs.items():
                examples = sum(found[0]["examples"].values())
                if examples != n:
                    raise RuntimeError(f"{label}, {side}: statistics count {examples} of {n} rows")
            work = {side: _median(found, "work") for side, found in runs.items()}
            whole = {side: _median(found, "process") for side, found in runs.items()}
            ratio = work["pipeline"] / work["direct"]
            for side, name in (("pipeline", "headrace pipeline"), ("direct", "direct Beam/TFDV")):
                found = runs[side]
                splits = ", ".join(f"{k} {v}" for k, v in found[0]["examples"].items())
                rows += [
                    (f"{label}: {name}, data work", work[side], "s", splits),
                    (f"{label}: {name}, rows per second", n / work[side], "/s", ""),
                    (
                        f"{label}: {name}, imports (+ pyarrow warm-up)",
                        _median(found, "imports") + _median(found, "warm_up"),
                        "s",
                        f"warm-up {_median(found, 'warm_up') * 1000:.0f} ms",
                    ),
                    (f"{label}: {name}, whole process", whole[side], "s", ""),
                ]
            rows += [
                (
                    f"{label}: ratio pipeline / direct, data work",
                    ratio,
                    "x",
                    _check(ratio, 1.2, "<= 1.2 x"),
                ),
                (
                    f"{label}: ratio pipeline / direct, whole process",
                    whole["pipeline"] / whole["direct"],
                    "x",
                    "",
                ),
            ]
    return rows


@group("beam_workers")
def beam_workers_bench() -> list[Row]:
    """The taxi pipeline's Beam part (CsvExampleGen -> StatisticsGen -> SchemaGen -> Transform)
    on the synthetic taxi-like CSV, with the multi-process DirectRunner and 1 vs 2 Beam worker
    processes (tools/bench/beam_workers_worker.py), each in a fresh process, run once: it is
    heavy (minutes per side)."""
    source = DATA / "chicago_taxi" / "data.csv"
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing (set HEADRACE_TEST_DATA)")
    csv_dir = _synthetic_csv(source, SYNTHETIC_ROWS)
    found: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            print(f"  {workers} Beam worker(s) ...", flush=True)
            start = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    str(BEAM_WORKERS_WORKER),
                    str(workers),
                    str(csv_dir),
                    str(Path(tmp) / f"workers-{workers}"),
                ],
                check=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            found[workers] = json.loads(out.stdout.strip().splitlines()[-1])
            found[workers]["process"] = time.perf_counter() - start
            counted = sum(found[workers]["examples"].values())
            if counted != SYNTHETIC_ROWS:
                raise RuntimeError(f"{workers} worker(s): statistics count {counted} rows")
    rows: list[Row] = []
    label = f"taxi-like {SYNTHETIC_ROWS:,} rows, ExampleGen+StatisticsGen+Transform"
    for workers, data in found.items():
        nodes = ", ".join(f"{n} {d:.0f} s" for n, d in data["nodes"].items() if d >= 0.5)
        rows += [
            (f"{label}, {workers} worker(s): data work", data["work"], "s", nodes),
            (f"{label}, {workers} worker(s): whole process", data["process"], "s", ""),
        ]
    speedup = found[1]["work"] / found[2]["work"]
    rows.append((f"{label}: speed-up 2 vs 1 workers, data work", speedup, "x", "2 cores"))
    return rows


PENGUIN_DIRECT = Path(__file__).resolve().parent / "penguin_direct.py"
PENGUIN_PIPELINE = ROOT / "examples" / "penguin" / "pipeline.py"
# Each side costs about a minute on a small shared machine: one round by default.
PENGUIN_ROUNDS = int(os.environ.get("HEADRACE_BENCH_PENGUIN_ROUNDS", "1"))
PENGUIN_CACHED_REPEAT = 5  # fully cached reruns per round (about a second each); the median
PENGUIN_MAX_SETTLING = 3  # reruns allowed before one must be fully cached
# Loaded through PYTHONPATH into a measured process: at exit, writes which heavy top-level
# modules the process imported to $HEADRACE_BENCH_MODULES_OUT.
_MODULES_HOOK = """
import atexit, json, os, sys

def _headrace_bench_dump(path=os.environ.get("HEADRACE_BENCH_MODULES_OUT"), heavy={heavy!r}):
    found = sorted({{name.split(".")[0] for name in list(sys.modules)}} & set(heavy))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(found, f)

if os.environ.get("HEADRACE_BENCH_MODULES_OUT"):
    atexit.register(_headrace_bench_dump)
"""


def _measured(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, int, str, str]:
    """``cmd`` in a fresh process from the repository root: (wall seconds from spawn to exit,
    peak RSS in MB of the largest process in its tree, exit status, stdout, stderr). The
    peak comes from ``wait4``'s rusage of that child alone, which covers its reaped
    descendants, so measurements do not mix."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            took,
            usage.ru_maxrss / 1024,  # kB on Linux
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def _loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return os.getloadavg()[0]


@group("penguin")
def penguin_bench() -> list[Row]:
    """The penguin pipeline (examples/penguin) against the same ML work written with direct
    library calls (tools/bench/penguin_direct.py), each in a fresh process, whole-process wall
    time and peak RSS: the direct script, the pipeline's first run on a fresh root, then its
    reruns on that root until one is fully cached (the second run re-evaluates: its baseline
    is now the model blessed by the first), and PENGUIN_CACHED_REPEAT fully cached reruns,
    each checked not to import TensorFlow (a sitecustomize hook on PYTHONPATH reports the
    heavy modules at exit). HEADRACE_BENCH_PENGUIN_ROUNDS raises the rounds; the direct script
    and the first run swap order every round. Both sides read PENGUIN_MIN_ACCURACY and
    PENGUIN_TRAIN_STEPS as the pipeline does (1.01: nothing is blessed, so no baseline)."""
    from headrace_core.testing import HEAVY_MODULES

    headrace = Path(sys.executable).parent / "headrace"
    if not headrace.exists():
        raise FileNotFoundError(f"{headrace} is missing: install headrace-core in this venv")
    with next((ROOT / "examples" / "penguin" / "data").glob("*.csv")).open(encoding="utf-8") as f:
        csv_rows = sum(1 for line in f if line.strip()) - 1
    ir = json.loads(
        subprocess.run(
            [str(headrace), "compile", str(PENGUIN_PIPELINE)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    nodes = [n["id"] for n in ir["nodes"]]
    components = [n["id"] for n in ir["nodes"] if n.get("kind") == "component"]
    load_start = _loadavg()
    direct: list[dict[str, Any]] = []
    first: list[dict[str, Any]] = []
    settling: list[dict[str, Any]] = []
    cached: list[dict[str, Any]] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        hook = Path(tmp) / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(_MODULES_HOOK.format(heavy=tuple(HEAVY_MODULES)))

        def run_direct(round_: int) -> None:
            print(f"  direct script (round {round_ + 1}) ...", flush=True)
            out_dir = Path(tmp) / f"direct-{round_}"
            took, rss, rc, out, err = _measured([sys.executable, str(PENGUIN_DIRECT), str(out_dir)])
            if rc != 0:
                raise RuntimeError(f"penguin_direct.py failed ({rc}):\n{_tail(err)}")
            data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
            if (
                sum(data["examples"].values()) != csv_rows
                or bool(data["pushed"]) != data["blessed"]
            ):
                raise RuntimeError(f"penguin_direct.py: unexpected result {data}")
            direct.append({"wall": took, "rss": rss, **data})

        def run_pipeline(root: Path, check_modules: bool) -> dict[str, Any]:
            env = {**os.environ, "PENGUIN_ROOT": str(root)}
            modules_out = root.parent / f"{root.name}-modules.json"
            if check_modules:
                modules_out.unlink(missing_ok=True)
                env["PYTHONPATH"] = os.pathsep.join(
                    p for p in (str(hook), env.get("PYTHONPATH", "")) if p
                )
                env["HEADRACE_BENCH_MODULES_OUT"] = str(modules_out)
            took, rss, rc, out, err = _measured(
                [str(headrace), "run", "--json", str(PENGUIN_PIPELINE)], env
            )
            try:
                result: dict[str, Any] = json.loads(out)
            except json.JSONDecodeError:
                result = {"succeeded": False, "nodes": {}}
            statuses = {n: r["status"] for n, r in result.get("nodes", {}).items()}
            found: dict[str, Any] = {
                "wall": took,
                "rss": rss,
                "ok": rc == 0 and bool(result.get("succeeded")),
                # A node skipped by its condition (an unblessed model's Pusher) does no work.
                "executed": [n for n in components if statuses.get(n) not in ("cached", "skipped")],
                "durations": {
                    n: result["nodes"][n]["duration"] for n in nodes if n in result.get("nodes", {})
                },
                "error": _tail(err),
            }
            if check_modules:
                found["heavy"] = (
                    json.loads(modules_out.read_text()) if modules_out.exists() else None
                )
            return found

        def run_pipeline_side(round_: int) -> None:
            root = Path(tmp) / f"pipeline-{round_}"
            print(f"  pipeline, first run (round {round_ + 1}) ...", flush=True)
            run = run_pipeline(root, check_modules=False)
            if not run["ok"]:
                raise RuntimeError(f"the penguin pipeline's first run failed:\n{run['error']}")
            metrics = json.loads(next(root.glob("Evaluator/evaluation/*/metrics.json")).read_text())
            run["accuracy"] = metrics["slices"][0]["metrics"].get("sparse_categorical_accuracy")
            blessed = metrics["validation"]["blessed"]
            pushed = [p for p in (root / "serving_model").glob("*") if p.name.isdigit()]
            if len(pushed) != int(blessed) or not all(
                (p / "saved_model.pb").exists() for p in pushed
            ):
                raise RuntimeError(
                    f"the first run pushed {pushed}, blessed {blessed}: expected one SavedModel "
                    "if blessed, none if not"
                )
            first.append(run)
            # The second run is not fully cached by design: the resolver now finds the model
            # blessed by the first run, so the Evaluator compares with that baseline and the
            # Pusher sees a new blessing. Reruns until one executes no component.
            for attempt in range(PENGUIN_MAX_SETTLING):
                print(f"  pipeline, rerun {attempt + 2} (round {round_ + 1}) ...", flush=True)
                run = run_pipeline(root, check_modules=True)
                if not run["ok"]:
                    failures.append(run["error"])
                    print(f"  the rerun FAILED:\n{run['error']}", flush=True)
                    return
                if not run["executed"]:
                    cached.append(run)
                    break
                run["attempt"] = attempt
                settling.append(run)
            else:
                failures.append(f"{PENGUIN_MAX_SETTLING} reruns each executed components")
                return
            for n in range(1, PENGUIN_CACHED_REPEAT):
                print(
                    f"  pipeline, fully cached rerun {n + 1} (round {round_ + 1}) ...", flush=True
                )
                run = run_pipeline(root, check_modules=True)
                if not run["ok"] or run["executed"]:
                    failures.append(
                        run["error"] if not run["ok"] else f"executed {run['executed']}"
                    )
                    return
                cached.append(run)

        for round_ in range(PENGUIN_ROUNDS):
            sides = (run_direct, run_pipeline_side)
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                side(round_)
    load_end = _loadavg()

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    def steps(runs: list[dict[str, Any]], key: str) -> str:
        """The median seconds of each step (direct) or node (pipeline), in run order."""
        names = runs[0][key]
        return ", ".join(
            f"{n} {statistics.median(r[key].get(n, 0.0) for r in runs):.1f}" for n in names
        )

    wall_direct, wall_first = median(direct, "wall"), median(first, "wall")
    ratio = wall_first / wall_direct
    rows: list[Row] = [
        (
            "direct script, whole process",
            wall_direct,
            "s",
            steps(direct, "seconds"),
        ),
        ("pipeline first run, whole process", wall_first, "s", steps(first, "durations")),
        ("ratio first run / direct", ratio, "x", _check(ratio, 1.3, "<= 1.3 x")),
    ]
    second = [r for r in settling if r["attempt"] == 0]
    if second:
        # Further reruns that still executed something: expected only when a package's
        # source changed under the benchmark (the executor's source is in the cache key).
        more = "".join(
            f"; then a rerun executed {', '.join(r['executed'])}"
            for r in settling
            if r["attempt"] > 0
        )
        rows.append(
            (
                "pipeline second run, whole process",
                median(second, "wall"),
                "s",
                f"executed {', '.join(second[0]['executed'])}{more}",
            )
        )
    if cached:
        wall_cached = median(cached, "wall")
        # None: the hook wrote nothing (the process ended without running atexit handlers).
        heavy = sorted(
            {m for r in cached for m in (r["heavy"] if r["heavy"] is not None else ["?"])}
        )
        rows += [
            (
                f"pipeline fully cached rerun, whole process (median of {len(cached)})",
                wall_cached,
                "s",
                _check(wall_cached, 3.0, "< 3 s"),
            ),
            (
                "fully cached rerun: heavy modules imported",
                float(len(heavy)),
                "",
                f"{'none':<10} {'ok' if not heavy else 'MISSED: ' + ', '.join(heavy)}"
                + (" (? = not reported)" if "?" in heavy else ""),
            ),
        ]
    for failure in failures:
        lines = [line.strip() for line in failure.strip().splitlines()]
        why = next((line for line in lines if line.startswith("headrace: error:")), lines[-1])
        rows.append(("pipeline fully cached rerun", float("nan"), "s", f"FAILED: {why}"))
    rows += [
        ("peak RSS, direct script", median(direct, "rss"), "MB", ""),
        ("peak RSS, pipeline first run", median(first, "rss"), "MB", ""),
    ]
    if second:
        rows.append(("peak RSS, pipeline second run", median(second, "rss"), "MB", ""))
    if cached:
        rows.append(("peak RSS, pipeline fully cached rerun", median(cached, "rss"), "MB", ""))
    knobs = ", ".join(
        f"{k}={os.environ[k]}"
        for k in ("PENGUIN_MIN_ACCURACY", "PENGUIN_TRAIN_STEPS")
        if k in os.environ
    )
    rows += [
        ("eval accuracy, direct script", 100 * median(direct, "accuracy"), "%", knobs),
        ("eval accuracy, pipeline first run", 100 * median(first, "accuracy"), "%", ""),
        ("load average (1 min), start / end", load_start, "", f"end {load_end:.2f}"),
    ]
    return rows


# Orchestrators ---------------------------------------------------------------------------------

ORCHESTRATOR_NODES = 10
# Each adapter's own benchmark: a chain of no-op nodes through the adapter and through the
# local runner, in one process, so each pair is measured side by side.
ORCHESTRATOR_BENCHES = {
    "beam": ROOT / "packages" / "beam" / "bench" / "overhead.py",
    "airflow": ROOT / "packages" / "airflow" / "bench" / "overhead.py",
    "kubeflow": ROOT / "packages" / "kubeflow" / "bench" / "overhead.py",
}


@group("orchestrators")
def orchestrators_bench() -> list[Row]:
    """Per-node overhead of each orchestrator on a 10-node chain of no-op nodes, first run and
    cached rerun, beside the local runner measured in the same script."""
    rows: list[Row] = []
    for name, script in ORCHESTRATOR_BENCHES.items():
        if name == "airflow" and not os.environ.get("HEADRACE_AIRFLOW_PYTHON"):
            print("orchestrators: airflow skipped (HEADRACE_AIRFLOW_PYTHON is not set)")
            continue
        proc = subprocess.run(
            [sys.executable, str(script), "--nodes", str(ORCHESTRATOR_NODES)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{_tail(proc.stderr)}")
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        for way, value in sorted(figures.items()):
            if not (isinstance(value, dict) and "first" in value):
                continue
            for run in ("first", "cached"):
                local = figures["local_in_process"][run]["per_node_ms"]
                baseline = "" if way == "local_in_process" else f"local in-process {local:.1f}"
                rows.append(
                    (
                        f"{name}: {way}, {run} run, per node",
                        value[run]["per_node_ms"],
                        "ms",
                        baseline,
                    )
                )
    rows.append(("load average after the orchestrator group", _loadavg(), "", ""))
    return rows


@group("celery")
def celery_bench() -> list[Row]:
    """The penguin pipeline through Airflow's CeleryExecutor on two workers beside the local
    runner, one after the other (tools/bench/celery_worker.py); needs a MariaDB server
    (HEADRACE_TEST_MYSQL) and the Celery Airflow environment (HEADRACE_AIRFLOW_CELERY_PYTHON,
    which `nox -s bench -- celery` builds)."""
    missing = [
        name
        for name in ("HEADRACE_TEST_MYSQL", "HEADRACE_AIRFLOW_CELERY_PYTHON")
        if not os.environ.get(name)
    ]
    if missing:
        print(f"celery: skipped ({', '.join(missing)} not set)")
        return []
    proc = subprocess.run(
        [sys.executable, str(CELERY_WORKER)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{CELERY_WORKER} failed:\n{_tail(proc.stderr)}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    spread = ", ".join(f"{w}: {n}" for w, n in figures["per_worker"].items())
    return [
        ("penguin, local runner (MariaDB store)", figures["local_s"], "s", ""),
        (
            "penguin through Celery, 2 workers (trigger to success)",
            figures["celery_s"],
            "s",
            f"local {figures['local_s']:.1f} s; nodes per worker: {spread}",
        ),
        (
            "Celery / local wall time",
            figures["celery_s"] / figures["local_s"],
            "x",
            "one machine: the workers share its 2 cores",
        ),
        (
            "Celery deployment start-up (Redis, DB, scheduler, 2 workers)",
            figures["startup_s"],
            "s",
            "",
        ),
        ("load average after the celery group", _loadavg(), "", ""),
    ]


STORE_ROUNDS = 3  # first runs and cached reruns per store, alternating SQLite and MariaDB
CLAIM_PUTS = 200  # RUNNING puts per variant in the claim-cost measurement


def _mysql_server() -> str | None:
    """The MariaDB server to measure against: HEADRACE_TEST_MYSQL (tools/test starts one)."""
    return os.environ.get("HEADRACE_TEST_MYSQL", "").strip().rstrip("/") or None


def _claim_cost(url: str) -> tuple[float, float]:
    """Median ms of a RUNNING put as the runtime makes it (named, in the cache key's context:
    the claim) and of the same put without the claim, interleaved on one store."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from headrace_core.metadata import CACHE_CONTEXT, MetadataStore

    store = MetadataStore(url)
    type_id = store.execution_type_id("bench.Claim")
    claimed, plain = [], []
    for i in range(CLAIM_PUTS):
        for named in (True, False):
            execution = pb.Execution(type_id=type_id, last_known_state=2)
            contexts = []
            if named:
                execution.name = f"key{i}#0"
                contexts = [store.context_proto(CACHE_CONTEXT, f"key{i}")]
            start = time.perf_counter()
            store.call(
                "put_execution", execution, [], contexts, reuse_context_if_already_exist=True
            )
            (claimed if named else plain).append(time.perf_counter() - start)
    return statistics.median(claimed) * 1000, statistics.median(plain) * 1000


@group("stores")
def stores_bench() -> list[Row]:
    """SQLite beside MariaDB: whole-process first run and cached rerun of a 10-node chain, and
    what the exactly-once claim adds to a node's RUNNING put."""
    import uuid

    server = _mysql_server()
    backends = {"SQLite": None, **({"MariaDB": server} if server else {})}
    first: dict[str, list[float]] = {b: [] for b in backends}
    cached: dict[str, list[float]] = {b: [] for b in backends}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = _pipeline_file(Path(tmp), 10)
        for round_ in range(STORE_ROUNDS):
            for name, base in backends.items():
                root = Path(tmp) / f"{name}{round_}"
                url = f"{base}/bench_{uuid.uuid4().hex[:10]}" if base else None
                env = {**os.environ, "BENCH_ROOT": str(root)}
                cmd = [sys.executable, "-m", "headrace_core.cli", "run", str(path), "--json"]
                cmd += ["--metadata", url] if url else []
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
                first[name].append(time.perf_counter() - start)
                cached[name].append(_cli_cached_rerun(path, root, url))
        for name in backends:
            rows.append(
                (
                    f"10-node first run, whole process, {name}",
                    statistics.median(first[name]) * 1000,
                    "ms",
                    "beside SQLite",
                )
            )
            rows.append(
                (
                    f"10-node cached rerun, whole process, {name}",
                    statistics.median(cached[name]) * 1000,
                    "ms",
                    "beside SQLite",
                )
            )
        sqlite_url = "sqlite:///" + str(Path(tmp) / "claims.sqlite")
        for name, url in {
            "SQLite": sqlite_url,
            **({"MariaDB": f"{server}/bench_claims_{uuid.uuid4().hex[:8]}"} if server else {}),
        }.items():
            with_claim, without = _claim_cost(url)
            target = "< 5 ms" if name == "SQLite" else "beside SQLite"
            rows.append(
                (
                    f"claim cost per node, {name} (put {with_claim:.2f} vs {without:.2f} ms)",
                    with_claim - without,
                    "ms",
                    _check(with_claim - without, 5.0, target) if name == "SQLite" else target,
                )
            )
    if not server:
        rows.append(("MariaDB figures skipped: HEADRACE_TEST_MYSQL is not set", 0.0, "", ""))
    return rows


UI_RUNS = int(os.environ.get("HEADRACE_BENCH_UI_RUNS", "1000"))
UI_WORKER = Path(__file__).resolve().parent / "ui_worker.py"


@group("ui")
def ui_bench() -> list[Row]:
    """Every page of headrace ui on a store of UI_RUNS real runs of a 10-node chain (the
    first executes, the rest are cached): 1,000 runs, 10,000 executions. Target: every page
    under 300 ms (the server's time, median of 15)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _pipeline_file(Path(tmp), 10)
        print(f"  10-node chain; generating {UI_RUNS} runs (minutes) ...", flush=True)
        proc = subprocess.run(
            [
                sys.executable,
                str(UI_WORKER),
                str(path),
                str(Path(tmp) / "root"),
                "--runs",
                str(UI_RUNS),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"ui worker failed:\n{proc.stderr[-4000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    rows: list[Row] = [
        (
            f"store: {data['runs']} runs, {data['executions']} executions",
            data["generation_s"],
            "s",
            "to generate",
        )
    ]
    for name, m in data["pages"].items():
        ms = m["median"] * 1000
        rows.append(
            (
                f"page: {name}",
                ms,
                "ms",
                f"max {m['max'] * 1000:.0f} ms; {_check(ms, 300, '< 300 ms')}",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("groups", nargs="*", help=f"groups to run: {', '.join(GROUPS)}")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # beside worker stderr
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; known: {', '.join(GROUPS)}")
    selected = args.groups or list(GROUPS)
    results: dict[str, list[dict[str, object]]] = {}
    python = sys.version.split()[0]
    print(f"headrace benchmarks on {platform.node()} ({os.cpu_count()} cores), Python {python}")
    for name in selected:
        print(f"\n== {name}")
        rows = GROUPS[name]()
        width = max(len(r[0]) for r in rows)
        for what, value, unit, target in rows:
            print(f"  {what.ljust(width)}  {value:10.1f} {unit:3}  {target}")
        results[name] = [
            {"what": w, "value": round(v, 3), "unit": u, "target": t} for w, v, u, t in rows
        ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
