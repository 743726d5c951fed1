"""The body of every task of a compiled spec: KFP ships this function's source in the spec.

It stays self-contained (imports inside, standard library only) and short (its source is
repeated for every task). It must not contain "python" followed by "3": kfp.local's
subprocess runner rewrites that string wherever it appears in a task's command, the shipped
source and the parameter values included. Values that would contain it arrive as ``json:``
and a JSON string (:func:`headrace_kubeflow.compiler.protect`).

Empty ``run_id`` means KFP's run id (``kfp_run_id``), the same for every task of one run;
empty ``python``, the interpreter running the task; empty ``metadata``, ``$HEADRACE_METADATA``
in the task's environment, then the pipeline's own store. The metadata URL reaches the
launcher inside the IR on its standard input, as the pipeline's ``metadata_connection_config``,
never on its command line: a password from a Kubernetes secret stays out of ``ps``. When the
launcher dies without writing its result file (a bad interpreter, a kill), the task writes
one naming the cause.

No ``from __future__ import annotations`` here: KFP reads the annotations as types.
"""

__all__ = ["headrace_finish_run", "headrace_node"]


def headrace_node(
    ir: str,
    node: str,
    run_id: str,
    kfp_run_id: str,
    python: str,
    metadata: str,
    result_dir: str,
) -> None:
    """Runs one headrace node: python -m headrace_core.launch, the IR on standard input."""
    import json
    import os
    import subprocess
    import sys

    def value(text: str) -> str:
        return str(json.loads(text[5:])) if text.startswith("json:") else text

    node, run_id = value(node), value(run_id) or kfp_run_id
    python, result_dir = value(python) or sys.executable, value(result_dir)
    metadata, ir = value(metadata) or os.environ.get("HEADRACE_METADATA", ""), value(ir)
    try:
        if metadata:
            document = json.loads(ir)
            document["pipeline"]["metadata_connection_config"] = metadata
            ir = json.dumps(document)
    except (ValueError, TypeError, KeyError):
        pass  # not an IR: the launcher says so, in the node's result
    command = [python, "-m", "headrace_core.launch", "--ir", "-", "--node", node]
    command += ["--run-id", run_id, "--orchestrator", "kubeflow"]
    result_file = os.path.join(result_dir, node + ".json") if result_dir else ""
    if result_file:
        os.makedirs(result_dir, exist_ok=True)
        command += ["--result-file", result_file]
    sys.stdout.flush()
    try:
        code = subprocess.run(command, input=ir, text=True, check=False).returncode
        reason = f"{python} -m headrace_core.launch exited with status {code}"
    except OSError as e:
        code, reason = -1, f"cannot start {python!r}: {e}"
    if code != 0:
        if result_file and not os.path.exists(result_file):
            with open(result_file, "w", encoding="utf-8") as f:
                json.dump({"node_id": node, "status": "failed", "error": reason}, f)
        raise RuntimeError(f"headrace node {node!r} failed: {reason}")


def headrace_finish_run(ir: str, run_id: str, kfp_run_id: str, python: str, metadata: str) -> None:
    """The exit handler: closes the headrace run from what ML Metadata holds (python -m
    headrace_core.launch --finish-run, the IR on standard input); fails when the run failed."""
    import json
    import os
    import subprocess
    import sys

    def value(text: str) -> str:
        return str(json.loads(text[5:])) if text.startswith("json:") else text

    run_id, python = value(run_id) or kfp_run_id, value(python) or sys.executable
    metadata, ir = value(metadata) or os.environ.get("HEADRACE_METADATA", ""), value(ir)
    try:
        if metadata:
            document = json.loads(ir)
            document["pipeline"]["metadata_connection_config"] = metadata
            ir = json.dumps(document)
    except (ValueError, TypeError, KeyError):
        pass  # not an IR: the launcher says so
    command = [python, "-m", "headrace_core.launch", "--ir", "-", "--finish-run"]
    command += ["--run-id", run_id, "--orchestrator", "kubeflow"]
    sys.stdout.flush()
    code = subprocess.run(command, input=ir, text=True, check=False).returncode
    if code != 0:
        raise RuntimeError(f"headrace run {run_id!r} did not succeed (exit status {code})")
