"""A chain of no-op nodes: Start -> Step1 -> ... -> Step<N-1>. BENCH_ROOT sets the root,
BENCH_NODES the length (default 10)."""

from __future__ import annotations

import os

from bench_noop_components import Start, Step

from headrace_core import Pipeline


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("BENCH_ROOT", os.path.join("build", "chain")))
    nodes = [Start()]
    for i in range(1, int(os.environ.get("BENCH_NODES", "10"))):
        nodes.append(Step(inp=nodes[-1].outputs["out"]).with_id(f"Step{i}"))
    return Pipeline(pipeline_name="chain", pipeline_root=root, components=nodes)
