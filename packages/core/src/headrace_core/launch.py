"""Standalone node entry point: ``python -m headrace_core.launch --ir FILE --node ID --run-id RUN
--metadata URL``.

Runs one node of one pipeline run, exactly as the local runner does in-process; the Airflow,
Kubeflow and Beam adapters call this. Exit status: 0 when the node completed, was cached or
was skipped (or had already finished in this run), 1 when it failed, 2 on bad arguments.

With ``--finish-run`` instead of ``--node``, closes the run (its status and end time, as
``headrace runs list`` shows them) from what the store holds: the last task of a compiled
Airflow DAG or KFP pipeline. Exit status 0 when every node finished, 1 when the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headrace_core.launch", description=__doc__)
    parser.add_argument(
        "--ir", required=True, help="the compiled pipeline (JSON file, or - for standard input)"
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--node", help="node id to run")
    what.add_argument(
        "--finish-run",
        action="store_true",
        help="close the run: succeeded when every node finished, else failed",
    )
    parser.add_argument("--run-id", required=True, help="the pipeline run this node belongs to")
    parser.add_argument(
        "--metadata", help="metadata URL (default: the pipeline's, or SQLite in its root)"
    )
    parser.add_argument("--result-file", help="write the node's result here as JSON")
    parser.add_argument(
        "--orchestrator",
        default="local",
        help="recorded on the run: which orchestrator started it (default: local)",
    )
    parser.add_argument(
        "--reuse-latest",
        action="append",
        default=[],
        metavar="NODE",
        help="take this node's outputs from its latest successful run (partial runs)",
    )
    args = parser.parse_args(argv)

    from headrace_core import ir
    from headrace_core.errors import HeadraceError
    from headrace_core.runtime import Status, apply_environment, close_run, launch_node, open_run

    try:
        if args.ir == "-":
            document = ir.loads(sys.stdin.read())
        else:
            with open(args.ir, encoding="utf-8") as f:
                document = ir.loads(f.read())
        session = open_run(
            document,
            run_id=args.run_id,
            metadata_url=args.metadata,
            reuse_latest=args.reuse_latest,
            orchestrator=args.orchestrator,
        )
        if args.finish_run:
            succeeded = close_run(session)
            outcome = "succeeded" if succeeded else "failed"
            print(f"headrace launch: run {args.run_id!r} {outcome}", file=sys.stderr)
            return 0 if succeeded else 1
        apply_environment([session.nodes[args.node]] if args.node in session.nodes else [])
        result = launch_node(session, args.node)
    except (HeadraceError, OSError) as e:
        print(f"headrace launch: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, OSError) else 1
    if result.status == Status.FAILED:
        print(
            f"headrace launch: node {args.node!r} failed: {result.error or result.message}",
            file=sys.stderr,
        )
    if args.result_file:
        tmp = f"{args.result_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result.to_json(), f)
        os.replace(tmp, args.result_file)
    return 1 if result.status == Status.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
