"""headrace benchmarks. Prints each figure beside its target or baseline; writes JSON too.

nox -s bench                 # all benchmarks
nox -s bench -- startup      # only the named groups
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

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"

Row = tuple[str, float, str, str]  # (what, value, unit, target or baseline)
GROUPS: dict[str, Callable[[], list[Row]]] = {}


def group(name: str) -> Callable[[Callable[[], list[Row]]], Callable[[], list[Row]]]:
    def register(fn: Callable[[], list[Row]]) -> Callable[[], list[Row]]:
        GROUPS[name] = fn
        return fn

    return register


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


def _pipeline_file(directory: Path, nodes: int) -> Path:
    """A chain of ``nodes`` no-op function components."""
    (directory / "bench_components.py").write_text(
        textwrap.dedent(
            """
            from headrace_core import component

            @component
            def Step(x: int) -> int:
                return x + 1

            @component
            def Start() -> int:
                return 0
            """
        )
    )
    (directory / "bench_pipeline.py").write_text(
        textwrap.dedent(
            f"""
            import os
            from headrace_core import Pipeline
            from bench_components import Start, Step

            def create_pipeline():
                nodes = [Start()]
                for i in range({nodes} - 1):
                    nodes.append(Step(x=nodes[-1].outputs["output"]).with_id(f"step_{{i:03d}}"))
                root = os.environ.get("BENCH_ROOT", "/tmp/headrace-bench")
                return Pipeline("bench", root, nodes)
            """
        )
    )
    return directory / "bench_pipeline.py"


@group("startup")
def startup() -> list[Row]:
    python = _median_wall([sys.executable, "-c", "pass"])
    headrace = [sys.executable, "-m", "headrace_core.cli"]
    return [
        ("python -c pass (interpreter start, baseline)", python * 1000, "ms", "baseline"),
        ("import headrace_core", _import_time("headrace_core") * 1000, "ms", "< 150 ms"),
        ("import ml_metadata (for scale)", _import_time("ml_metadata") * 1000, "ms", "baseline"),
        (
            "headrace --help (whole process)",
            _median_wall([*headrace, "--help"]) * 1000,
            "ms",
            "< 300 ms",
        ),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("groups", nargs="*", help=f"groups to run: {', '.join(GROUPS)}")
    args = parser.parse_args()
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
