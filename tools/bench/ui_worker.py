"""The ui benchmark's worker: builds a store of real runs, then times every page of
``headrace ui`` over it (in-process ASGI, Starlette's TestClient: the server's own time, no
network). Prints one JSON object.

    python tools/bench/ui_worker.py PIPELINE_FILE ROOT --runs 1000 --repeat 15
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings


def build(pipeline_file: str, root: str, runs: int) -> float:
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.pipeline_file import load_pipeline_file

    pipeline = load_pipeline_file(pipeline_file)
    pipeline.pipeline_root = root
    started = time.monotonic()
    runner = LocalDagRunner(max_parallel=1)
    for _ in range(runs):
        assert runner.run(pipeline).succeeded
    return time.monotonic() - started


def pages(url: str) -> dict[str, str]:
    """One URL per page, on the newest and the oldest run."""
    from headrace_ui import queries

    from headrace_core import history
    from headrace_core.metadata import MetadataStore

    store = MetadataStore(url, read_only=True)
    [pipeline] = [p["name"] for p in queries.pipelines(store)]
    first = queries.runs_page(store, pipeline, limit=1)["runs"][0]
    newest = first["run_id"]
    ctx = queries.run_context(store, pipeline, newest)
    record = history.run_record(store, ctx)
    node = record["nodes"][-1]
    out = next(iter(node["outputs"].values()))[0]
    oldest = min(history.run_list(store, pipeline, limit=10**6), key=lambda r: r["started_at"])
    older = queries.runs_page(store, pipeline)["next"]
    q = f"pipeline={pipeline}"
    return {
        "pipelines": "/",
        "runs (first page)": f"/runs?{q}",
        "runs (second page)": f"/runs?{q}&before={older}",
        "runs (failed filter)": f"/runs?{q}&status=failed",
        "run (newest)": f"/run?{q}&run={newest}",
        "run (oldest)": f"/run?{q}&run={oldest['run_id']}",
        "node": f"/node?{q}&run={newest}&node={node['node_id']}&partial=1",
        "artifact (reused by 1,000 runs)": f"/artifact?id={out}",
        "lineage": f"/lineage?artifact={out}",
        "compare": f"/compare?{q}&a={oldest['run_id']}&b={newest}",
        "model history": f"/models?{q}",
        "live status stream (finished run)": f"/events?{q}&run={newest}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pipeline_file")
    parser.add_argument("root")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from headrace_ui import create_app
    from starlette.testclient import TestClient

    from headrace_core.metadata import MetadataStore, default_metadata_url

    generation = build(args.pipeline_file, args.root, args.runs)
    url = default_metadata_url(args.root)
    store = MetadataStore(url, read_only=True)
    executions = len(store.call("get_executions"))  # once, to report the store's size
    results = {}
    with TestClient(create_app(url)) as client:
        for name, path in pages(url).items():
            client.get(path)  # warm: templates compiled, the store opened
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            results[name] = {"median": statistics.median(times), "max": max(times)}
    print(
        json.dumps(
            {
                "runs": args.runs,
                "executions": executions,
                "generation_s": generation,
                "pages": results,
            }
        )
    )


if __name__ == "__main__":
    main()
