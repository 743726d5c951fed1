"""Run a compiled spec on this machine through ``kfp.local``:
``python -m headrace_kubeflow.local PIPELINE.yaml [--run-id ID] [--python PATH] [--json]``.

The tasks inherit this process's environment: ``HEADRACE_METADATA`` there is the way to give
them a metadata URL with a password, which the spec and the task parameters refuse.

kfp.local's SubprocessRunner (``use_venv=False``) runs each task's component function with
the interpreter running this module, which then starts the node with ``--python`` (default:
the same interpreter). So kfp's environment need not hold TensorFlow: only the interpreter
given as ``--python`` needs the pipeline's component packages.

What kfp 2.13's local runner does, found by experiment: it runs the tasks one at a time in a
topological order, resolves ``{{$.pipeline_job_uuid}}`` to one random 8-digit id per run, and
stops at the first failed task, so an independent branch ordered after a failure does not run
(a cluster would run it). It cannot run container components, ``dsl.Condition`` or
``dsl.ParallelFor``, and runs a ``dsl.ExitHandler``'s exit task only when no task failed
(and none that takes ``PipelineTaskFinalStatus``): when a task failed, this module closes
the run itself, as the spec's exit task would have.

Exit status: 0 when every node completed, was cached or skipped; 1 otherwise; 2 on bad
arguments. ``--json`` prints one object: run id, success, each node's result, the nodes not
run and why.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["close_after_failure", "collect_results", "main", "run_spec", "spec_document"]


def spec_document(spec_path: str, ir_text: str | None = None) -> dict[str, Any]:
    """The headrace IR a compiled spec carries (or ``ir_text``, a run's override)."""
    import yaml

    from headrace_kubeflow.compiler import KubeflowCompileError

    if ir_text is None:
        try:
            with open(spec_path, encoding="utf-8") as f:
                spec: Any = next(iter(yaml.safe_load_all(f)), None)
            ir_text = spec["root"]["inputDefinitions"]["parameters"]["ir"]["defaultValue"]
        except OSError as e:
            raise KubeflowCompileError(f"{spec_path}: {e.strerror or e}") from None
        except (yaml.YAMLError, KeyError, TypeError) as e:
            raise KubeflowCompileError(
                f"{spec_path}: not a pipeline spec written by headrace-kubeflow "
                f"(no root.inputDefinitions.parameters.ir.defaultValue: {e})"
            ) from None
    try:
        document = json.loads(ir_text)
    except ValueError as e:
        raise KubeflowCompileError(f"{spec_path}: its ir parameter is not JSON: {e}") from None
    if not (isinstance(document, dict) and "pipeline" in document and "nodes" in document):
        raise KubeflowCompileError(f"{spec_path}: its ir parameter is no headrace IR document")
    return document


@contextlib.contextmanager
def _quiet_image_warning() -> Iterator[None]:
    # The image is for the cluster; here every task runs in this environment, as intended.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*non-Python base image.*", category=RuntimeWarning
        )
        yield


def run_spec(
    spec_path: str, *, arguments: Mapping[str, str] | None = None, kfp_root: str | None = None
) -> bool:
    """Run the spec through ``kfp.local`` in this process; True when every task succeeded.

    ``arguments`` override the pipeline parameters (``run_id``, ``python``, ``metadata``,
    ``result_dir``, ``ir``: the IR's JSON text), given plainly: what kfp.local would rewrite
    is escaped here. A metadata URL with a password is refused, in ``metadata`` or in the
    IR: task parameters reach the tasks' command lines. Set ``HEADRACE_METADATA`` in the
    environment instead; the tasks inherit it. kfp's own task files go to ``kfp_root``
    (default: a temporary folder, removed afterwards)."""
    from kfp import components, local

    from headrace_kubeflow.compiler import check_no_password, escape_ir, protect

    values = {}
    for key, value in (arguments or {}).items():
        if key == "ir":
            document = spec_document(spec_path, value)
            check_no_password(
                document["pipeline"].get("metadata_connection_config"),
                "argument ir: metadata_connection_config",
            )
            # Not protect(): the task hands the IR text to the launcher as it comes.
            values[key] = escape_ir(value)
        else:
            if key == "metadata":
                check_no_password(value, "argument metadata")
            values[key] = protect(value)
    with contextlib.ExitStack() as stack:
        if kfp_root is None:
            kfp_root = stack.enter_context(tempfile.TemporaryDirectory(prefix="headrace-kfp-"))
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=kfp_root,
            raise_on_error=True,
        )
        pipeline = components.load_component_from_file(spec_path)
        try:
            with _quiet_image_warning():
                pipeline(**values)
        except RuntimeError as e:
            # kfp.local's way of saying a task failed; anything else is a real error.
            if "finished with status" not in str(e):
                raise
            print(str(e), file=sys.stderr, flush=True)
            return False
    return True


def close_after_failure(spec_path: str, arguments: Mapping[str, str]) -> None:
    """Close the run as the spec's exit handler would have, had kfp.local run it: after a
    failed task kfp.local runs nothing more. ``arguments`` as for :func:`run_spec`."""
    import yaml

    from headrace_kubeflow._task import headrace_finish_run
    from headrace_kubeflow.compiler import escape_ir, protect

    with open(spec_path, encoding="utf-8") as f:
        spec: Any = next(iter(yaml.safe_load_all(f)))
    defaults = {
        key: str(parameter.get("defaultValue", ""))
        for key, parameter in spec["root"]["inputDefinitions"]["parameters"].items()
    }
    values = {
        **defaults,
        **{k: escape_ir(v) if k == "ir" else protect(v) for k, v in arguments.items()},
    }
    with contextlib.suppress(RuntimeError):  # the run failed: that is why this closes it
        headrace_finish_run(
            ir=values["ir"],
            run_id=values["run_id"],
            kfp_run_id="",
            python=values["python"],
            metadata=values["metadata"],
        )


def collect_results(
    document: Mapping[str, Any], result_dir: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each node's result (as the launcher wrote it) and, for the nodes without one, why."""
    results: dict[str, dict[str, Any]] = {}
    not_run: dict[str, str] = {}
    for node in document["nodes"]:
        node_id = node["id"]
        path = os.path.join(result_dir, node_id + ".json")
        try:
            with open(path, encoding="utf-8") as f:
                results[node_id] = json.load(f)
            continue
        except (OSError, ValueError):
            pass
        blocked = [
            u
            for u in node.get("upstream", [])
            if u in not_run or results.get(u, {}).get("status") in ("failed", "abandoned")
        ]
        if blocked:
            not_run[node_id] = f"upstream node {blocked[0]!r} did not succeed"
        elif any(r.get("status") == "failed" for r in results.values()):
            not_run[node_id] = "kfp.local stops at the first failed task"
        else:
            not_run[node_id] = "the kfp.local run ended before this task"
    return results, not_run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m headrace_kubeflow.local",
        description="Run a spec written by headrace compile --target kubeflow through kfp.local.",
    )
    parser.add_argument("spec", help="the compiled pipeline spec (YAML)")
    parser.add_argument("--run-id", help="headrace run id (default: a new one)")
    parser.add_argument(
        "--python", help="interpreter that runs the nodes (default: the spec's, else this one)"
    )
    parser.add_argument(
        "--metadata",
        help="metadata URL without a password (default: the spec's, else $HEADRACE_METADATA, "
        "else the pipeline's own store); a URL with a password goes in $HEADRACE_METADATA",
    )
    parser.add_argument("--result-dir", help="keep each node's result JSON here")
    parser.add_argument("--kfp-root", help="kfp.local's own task files (default: temporary)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    args = parser.parse_args(argv)

    from headrace_core.errors import HeadraceError
    from headrace_core.runtime import new_run_id
    from headrace_kubeflow.compiler import check_no_password

    try:
        document = spec_document(args.spec)
        if args.metadata:
            check_no_password(args.metadata, "--metadata")
    except HeadraceError as e:
        print(f"headrace-kubeflow: error: {e}", file=sys.stderr)
        return 2
    run_id = args.run_id or new_run_id()
    with contextlib.ExitStack() as stack:
        result_dir = args.result_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="headrace-kfp-results-")
        )
        arguments = {"run_id": run_id, "result_dir": os.path.abspath(result_dir)}
        if args.python:
            arguments["python"] = args.python
        if args.metadata:
            arguments["metadata"] = args.metadata
        if args.json:
            # kfp.local prints every task's log: keep standard output for the JSON alone.
            stack.enter_context(contextlib.redirect_stdout(sys.stderr))
        ok = run_spec(args.spec, arguments=arguments, kfp_root=args.kfp_root)
        if not ok:
            close_after_failure(args.spec, arguments)
        results, not_run = collect_results(document, result_dir)
    succeeded = (
        ok
        and not not_run
        and all(r.get("status") in ("complete", "cached", "skipped") for r in results.values())
    )
    outcome = {
        "pipeline": document["pipeline"]["name"],
        "run_id": run_id,
        "succeeded": succeeded,
        "failed_nodes": [n for n, r in results.items() if r.get("status") == "failed"],
        "nodes": results,
        "not_run": not_run,
    }
    if args.json:
        sys.stdout.flush()
        print(json.dumps(outcome, sort_keys=True))
    else:
        for node_id, result in results.items():
            print(f"{node_id}: {result.get('status')}", file=sys.stderr)
        for node_id, reason in not_run.items():
            print(f"{node_id}: not run ({reason})", file=sys.stderr)
        print(f"run {run_id}: {'succeeded' if succeeded else 'failed'}", file=sys.stderr)
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
