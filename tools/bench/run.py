"""headrace benchmarks. Prints each figure beside its target or baseline; writes JSON too.

nox -s bench                 # all benchmarks
nox -s bench -- startup      # only the named groups
nox -s bench -- runner history   # the runner in one process; cached reruns against history
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

RUNNER_NODES = 50
RUNNER_ROUNDS = 2  # worker processes per shape, alternating chain and grid
RUNNER_STORES = 2  # fresh stores per worker: a first run on each, then cached reruns
RUNNER_RERUNS = 3  # rounds of cached reruns over a worker's stores
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


def _sqlite_commit(repeat: int = 50) -> float:
    """Median time to commit a one-row SQLite transaction in a temp dir (rollback journal,
    synchronous=FULL, as MLMD uses it): the disk's fsync latency, which every MLMD write pays.
    On a shared VM it changes from minute to minute, so each group measures it beside its
    figures."""
    import sqlite3

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "commit.sqlite", isolation_level=None)
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
        f"SQLite one-row commit in a temp dir, {when}",
        _sqlite_commit() * 1000,
        "ms",
        "baseline",
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
