"""IR -> Kubeflow Pipelines v2 pipeline spec (YAML).

Every node becomes one task: a lightweight Python component (:func:`headrace_node`) that runs
``python -m headrace_core.launch`` for that node, in the configured image. Lightweight rather
than container components because ``kfp.local``'s SubprocessRunner runs only those: the same
file runs on a cluster and on a laptop. The IR travels once, as the pipeline parameter ``ir``;
task order comes from the IR's ``upstream`` lists through ``.after()``. KFP's execution cache
is off on every task: headrace's cache decides, and a KFP cache hit would skip the launcher,
leaving the run without its executions in ML Metadata. The node tasks sit in a
``dsl.ExitHandler`` whose exit task (:func:`headrace_finish_run`, ``headrace-finish-run``)
runs after them however they ended and closes the headrace run from what ML Metadata holds
(``launch --finish-run``); it fails when the run failed.

The spec is built with ``kfp.dsl`` and written from kfp's own PipelineSpec proto, so it is what
``kfp.compiler`` would produce, minus kfp's header comment (which would repeat the whole IR).
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from headrace_core.errors import HeadraceError
from headrace_core.metadata import has_password, redact

__all__ = [
    "DEFAULT_IMAGE",
    "OPTIONS",
    "KubeflowCompileError",
    "build_pipeline",
    "check_no_password",
    "compile_pipeline",
    "FINISH_TASK",
    "escape_ir",
    "has_password",
    "parse_options",
    "protect",
    "task_name",
]

DEFAULT_IMAGE = "python:3.11"
#: The exit handler's task, which closes the run after every node however it ended; no node.
FINISH_TASK = "headrace-finish-run"

#: The options ``headrace compile --target kubeflow --option KEY=VALUE`` takes.
OPTIONS: dict[str, str] = {
    "image": f"container image of every task; it must hold headrace-core, headrace-kubeflow "
    f"and the pipeline's component packages (default {DEFAULT_IMAGE}, which holds none)",
    "python": "interpreter that runs the nodes, inside the image (default: the one running "
    "the task)",
    "metadata": "ML Metadata URL without a password, e.g. mysql://user@host:port/database "
    "(default: $HEADRACE_METADATA in the task's environment, from a Kubernetes secret, then "
    "the pipeline's own store); a URL with a password is refused: the spec would show it",
    "retries": "how many times KFP retries a failed task (default 0); a retry re-runs only "
    "what did not finish",
    "name": "KFP pipeline name (default: the headrace pipeline name, in lowercase-dashes)",
}

# kfp.local's SubprocessRunner replaces this string in every part of a task's command,
# parameter values included (it means to swap the interpreter); values must not contain it.
_REWRITTEN = "python" + "3"
_KFP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")


class KubeflowCompileError(HeadraceError):
    """The IR or an option cannot be turned into a KFP pipeline spec."""


def protect(value: str) -> str:
    """``value`` as a task parameter that survives kfp.local: unchanged unless it contains the
    string kfp.local rewrites, else ``json:`` and a JSON string with that string escaped."""
    if _REWRITTEN not in value:
        return value
    return "json:" + json.dumps(value).replace(_REWRITTEN, "\\u0070ython3")


def escape_ir(text: str) -> str:
    """IR JSON text as the ``ir`` task parameter: the same document, with nothing in it that
    kfp.local rewrites. Outside its strings JSON text holds only literals, numbers and
    punctuation, so the string kfp.local rewrites can only be inside a string, where
    ``\\u0070`` is "p"."""
    return text.replace(_REWRITTEN, "\\u0070ython3")


def _ir_text(document: Mapping[str, Any]) -> str:
    return escape_ir(json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False))


def task_name(node_id: str) -> str:
    """A node id as a KFP task name: ``CsvExampleGen`` -> ``csv-example-gen``."""
    dashed = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", node_id)
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]+", "-", dashed.lower())).strip("-") or "node"


def check_no_password(url: str | None, where: str) -> None:
    """Refuse a metadata URL with a password where it would be written down: in a spec (KFP
    shows every parameter default and the whole IR in its UI) or in a task's parameters
    (which reach the task's command line, so ``ps`` shows them). ``where`` names the field."""
    if url and has_password(url):
        raise KubeflowCompileError(
            f"{where}={redact(str(url))!r} holds a password, which would be readable in the "
            "pipeline spec, in KFP's UI and on the tasks' command lines; leave the URL out of "
            "here and give the tasks the metadata URL in the HEADRACE_METADATA environment "
            "variable instead, from a Kubernetes secret "
            "(kfp.kubernetes.use_secret_as_env; see docs/orchestrators/kubeflow.md)"
        )


def _check_metadata(url: str) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "sqlite" and url[len("sqlite://") :].strip("/"):
        pass
    elif not (parsed.scheme in ("mysql", "mariadb") and parsed.hostname and parsed.path.strip("/")):
        raise KubeflowCompileError(
            f"option metadata={redact(url)!r}: expected mysql://user@host:port/database "
            "or sqlite:///path"
        )
    check_no_password(url, "option metadata")


def parse_options(options: Mapping[str, str]) -> dict[str, Any]:
    """Checked options with defaults filled in; a bad or unknown key is a clear error."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise KubeflowCompileError(
            f"unknown kubeflow option {unknown[0]!r}; known options: {', '.join(OPTIONS)}"
        )
    parsed: dict[str, Any] = {
        "image": options.get("image", DEFAULT_IMAGE),
        "python": options.get("python", ""),
        "metadata": options.get("metadata", ""),
        "name": options.get("name", ""),
    }
    if not parsed["image"].strip() or any(c.isspace() for c in parsed["image"]):
        raise KubeflowCompileError(
            f"option image={parsed['image']!r}: give a container image, e.g. "
            "registry.example.com/headrace:1.0"
        )
    if parsed["metadata"]:
        _check_metadata(parsed["metadata"])
    raw = options.get("retries", "0")
    try:
        parsed["retries"] = int(raw)
    except ValueError:
        parsed["retries"] = -1
    if parsed["retries"] < 0:
        raise KubeflowCompileError(f"option retries={raw!r}: expected a whole number >= 0")
    if parsed["name"] and not _KFP_NAME.match(parsed["name"]):
        raise KubeflowCompileError(
            f"option name={parsed['name']!r}: a KFP pipeline name is lowercase letters, "
            "digits and '-', starting with a letter or digit, at most 128 characters"
        )
    return parsed


def _check_document(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    try:
        pipeline, nodes = document["pipeline"], list(document["nodes"])
        _name, _root = pipeline["name"], pipeline["root"]  # the launcher needs both
    except (KeyError, TypeError) as e:
        raise KubeflowCompileError(f"not a headrace IR document: missing {e}") from None
    if not nodes:
        raise KubeflowCompileError(f"pipeline {pipeline['name']!r} has no nodes")
    # The spec carries the IR whole, as the default of its ir parameter.
    check_no_password(
        pipeline.get("metadata_connection_config"),
        f"pipeline {pipeline['name']!r}: metadata_connection_config",
    )
    seen: set[str] = set()
    for node in nodes:
        if task_name(node["id"]) == FINISH_TASK:
            raise KubeflowCompileError(
                f"node {node['id']!r}: its KFP task name {FINISH_TASK!r} is the exit handler's, "
                "which closes the run; give the node another id (.with_id(...))"
            )
        for upstream in node.get("upstream", []):
            if upstream not in seen:
                raise KubeflowCompileError(
                    f"node {node['id']!r}: upstream node {upstream!r} is not earlier in "
                    "the IR's topological order"
                )
        seen.add(node["id"])
    return nodes


def build_pipeline(
    document: Mapping[str, Any],
    options: Mapping[str, str] | None = None,
    *,
    configure_task: Callable[[Any, Mapping[str, Any]], None] | None = None,
) -> Any:
    """The KFP pipeline (a ``kfp.dsl`` GraphComponent) for a compiled headrace pipeline.

    ``configure_task(task, node)`` is called on every task: mount a volume or a secret with
    ``kfp.kubernetes``, set resources, and so on; last on the exit handler's task, which
    closes the run, with ``{"id": FINISH_TASK, "finish_run": True}`` for ``node``. Its
    pipeline parameters: ``ir``, ``python``, ``metadata`` (defaults from the options),
    ``run_id`` (empty: KFP's run id) and ``result_dir`` (empty: none; each node's result as
    JSON, for local runs).
    """
    from kfp import dsl
    from kfp.dsl.python_component import PythonComponent

    from headrace_kubeflow._task import headrace_finish_run, headrace_node

    settings = parse_options(options or {})
    nodes = _check_document(document)
    name = settings["name"] or task_name(document["pipeline"]["name"])
    if not _KFP_NAME.match(name):
        raise KubeflowCompileError(
            f"pipeline name {document['pipeline']['name']!r} makes no KFP pipeline name; "
            "give one with --option name=NAME"
        )
    base = dsl.component(headrace_node, base_image=settings["image"], install_kfp_package=False)
    components = {}
    for node in nodes:
        # One component per node, named after it: the spec's tasks then read like the IR.
        spec = dataclasses.replace(
            base.component_spec,
            name=task_name(node["id"]),
            description=f"headrace node {node['id']}",
        )
        components[node["id"]] = PythonComponent(spec, base.python_func)
    finisher = dsl.component(
        headrace_finish_run, base_image=settings["image"], install_kfp_package=False
    )
    finisher = PythonComponent(
        dataclasses.replace(
            finisher.component_spec,
            name=FINISH_TASK,
            description="closes the headrace run: succeeded when every node finished",
        ),
        finisher.python_func,
    )

    def body(ir: str, python: str, metadata: str, run_id: str, result_dir: str) -> None:
        # The exit handler runs after the nodes however they ended (on a cluster; kfp.local
        # stops at a failed task, and its callers close the run then).
        finish = finisher(
            ir=ir,
            run_id=run_id,
            kfp_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            python=python,
            metadata=metadata,
        )
        finish.set_display_name(FINISH_TASK)
        finish.set_caching_options(False)
        with dsl.ExitHandler(finish, name="headrace-nodes"):
            _node_tasks(ir, python, metadata, run_id, result_dir)
        if configure_task is not None:
            # It opens the store too, so it needs what the nodes need to reach it (a secret).
            configure_task(finish, {"id": FINISH_TASK, "finish_run": True})

    def _node_tasks(ir: str, python: str, metadata: str, run_id: str, result_dir: str) -> None:
        tasks: dict[str, Any] = {}
        for node in nodes:
            task = components[node["id"]](
                ir=ir,
                node=protect(node["id"]),
                run_id=run_id,
                kfp_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
                python=python,
                metadata=metadata,
                result_dir=result_dir,
            )
            task.set_display_name(node["id"])
            task.set_caching_options(False)
            if settings["retries"]:
                task.set_retry(settings["retries"])
            for upstream in node.get("upstream", []):
                task.after(tasks[upstream])
            if configure_task is not None:
                configure_task(task, node)
            tasks[node["id"]] = task

    # This module's annotations are strings (PEP 563); KFP reads the parameter types from them.
    body.__annotations__ = dict.fromkeys(("ir", "python", "metadata", "run_id", "result_dir"), str)
    body.__defaults__ = (
        _ir_text(document),
        protect(settings["python"]),
        protect(settings["metadata"]),
        "",
        "",
    )
    return dsl.pipeline(
        name=name,
        description=f"headrace pipeline {document['pipeline']['name']!r} "
        f"({len(nodes)} nodes), compiled by headrace-kubeflow",
    )(body)


def _yaml(pipeline: Any, header: str) -> str:
    import yaml
    from google.protobuf import json_format

    documents = [json_format.MessageToDict(pipeline.pipeline_spec)]
    platform_spec = pipeline.platform_spec
    if platform_spec.platforms:
        documents.append(json_format.MessageToDict(platform_spec))
    text: str = yaml.dump_all(documents, sort_keys=True)
    return header + text


def compile_pipeline(
    document: Mapping[str, Any],
    *,
    options: Mapping[str, str] | None = None,
    configure_task: Callable[[Any, Mapping[str, Any]], None] | None = None,
) -> str:
    """The KFP pipeline spec (YAML text) of a compiled headrace pipeline: what ``headrace
    compile --target kubeflow`` writes. Same IR and options, same text."""
    from headrace_kubeflow.__about__ import __version__

    pipeline = build_pipeline(document, options, configure_task=configure_task)
    nodes = [n["id"] for n in document["nodes"]]
    header = (
        f"# headrace pipeline {document['pipeline']['name']!r} for Kubeflow Pipelines v2, "
        f"written by headrace-kubeflow {__version__}.\n"
        f"# {len(nodes)} tasks, one per node: {', '.join(nodes)}; then {FINISH_TASK}, the\n"
        "# exit handler, which closes the run.\n"
        "# KFP's cache is off on every task: headrace's cache decides.\n"
    )
    return _yaml(pipeline, header)
