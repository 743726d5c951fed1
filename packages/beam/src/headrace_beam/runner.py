"""``BeamDagRunner``: a whole headrace pipeline as one Apache Beam pipeline, a step per node.

Each node is a Beam step that launches the node through the headrace launcher. A step takes
its upstream steps' outputs as side inputs, so Beam runs it only after them; a step whose
upstream failed (or was not run) reports ``not_run`` and launches nothing, while independent
branches go on. Outcomes are recorded in ML Metadata by the launcher, exactly as with the local
runner, so the two leave the same executions, artifacts and lineage.

This module stays light (no Beam import at module level): ``headrace plugins`` and a pipeline
file that only names the runner do not pay Beam's import.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from headrace_beam import _channel
from headrace_core.errors import HeadraceError
from headrace_core.runtime import (
    NodeEvent,
    NodeResult,
    RunResult,
    RunSession,
    Status,
    apply_environment,
    open_run,
)

__all__ = ["ISOLATIONS", "BeamDagRunner", "split_options"]

#: How a step runs its node. ``subprocess`` (the default): a fresh
#: ``python -m headrace_core.launch`` per node; ``in-process``: the launcher inside the Beam
#: worker.
ISOLATIONS = ("subprocess", "in-process")
ORCHESTRATOR = "beam"

# Options of this runner, given among the Beam arguments; Beam never sees them.
_OWN_OPTIONS = {"headrace_isolation": ISOLATIONS}
_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_POLL_SECONDS = 0.1


def split_options(options: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """(this runner's own ``--headrace_*`` options, the Beam pipeline arguments)."""
    own: dict[str, str] = {}
    beam_args: list[str] = []
    items = list(options)
    i = 0
    while i < len(items):
        arg = items[i]
        i += 1
        if not isinstance(arg, str):
            raise HeadraceError(f"Beam runner option {arg!r} is not a string")
        if not arg.startswith("--headrace_"):
            beam_args.append(arg)
            continue
        name, has_value, value = arg[2:].partition("=")
        if name not in _OWN_OPTIONS:
            known = ", ".join(f"--{k}" for k in sorted(_OWN_OPTIONS))
            raise HeadraceError(f"unknown Beam runner option --{name}; known: {known}")
        if not has_value:
            if i >= len(items) or items[i].startswith("--"):
                raise HeadraceError(f"Beam runner option --{name} needs a value")
            value = items[i]
            i += 1
        choices = _OWN_OPTIONS[name]
        if value not in choices:
            raise HeadraceError(
                f"Beam runner option --{name}={value}: expected one of {', '.join(choices)}"
            )
        own[name] = value
    return own, beam_args


def _check_beam_args(beam_args: Sequence[str]) -> str:
    """Refuse arguments Beam would silently discard (a misspelt option only logs a warning
    there) or reject mid-run; returns the runner's name."""
    from apache_beam.options.pipeline_options import (
        PipelineOptions,
        StandardOptions,
        _BeamArgumentParser,
    )
    from apache_beam.runners.runner import create_runner

    # The same parser PipelineOptions.get_all_options builds: every registered options class.
    parser = _BeamArgumentParser(prog="beam")
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            _, unknown = parser.parse_known_args(list(beam_args))
    except SystemExit:
        lines = errors.getvalue().strip().splitlines()
        reason = lines[-1].removeprefix("beam: error: ") if lines else "invalid arguments"
        raise HeadraceError(f"bad Beam pipeline option: {reason}") from None
    if unknown:
        raise HeadraceError(
            f"unknown Beam pipeline option(s) {' '.join(unknown)}: not an option of any Beam "
            "options class (apache_beam.options.pipeline_options)"
        )
    runner = PipelineOptions(list(beam_args)).view_as(StandardOptions).runner or "DirectRunner"
    try:
        create_runner(runner)
    except (ValueError, ImportError) as e:
        raise HeadraceError(f"Beam option --runner={runner}: {e}") from None
    return str(runner)


class BeamDagRunner:
    """Runs a pipeline as one Beam pipeline (TFX's ``BeamDagRunner``).

    ``beam_orchestrator_args`` (TFX's name) and ``options`` (what ``headrace run
    --orchestrator beam --beam-arg=ARG`` passes) are Beam pipeline arguments for the
    orchestrating pipeline, e.g. ``--runner=PortableRunner --job_endpoint=embed
    --environment_type=LOOPBACK``, plus ``--headrace_isolation=subprocess|in-process``. The
    pipeline's own ``beam_pipeline_args`` still go to the executors' Beam pipelines.
    """

    def __init__(
        self,
        beam_orchestrator_args: Sequence[str] | None = None,
        *,
        metadata_url: str | None = None,
        on_event: Callable[[NodeEvent], None] | None = None,
        options: Sequence[str] = (),
        isolation: str | None = None,
    ) -> None:
        own, beam_args = split_options([*(beam_orchestrator_args or ()), *options])
        isolation = isolation or own.get("headrace_isolation", "subprocess")
        if isolation not in ISOLATIONS:
            raise HeadraceError(f"isolation {isolation!r}: expected one of {', '.join(ISOLATIONS)}")
        self.isolation = isolation
        self.beam_args = beam_args
        self.beam_runner = _check_beam_args(beam_args)
        self.metadata_url = metadata_url
        self.on_event = on_event or (lambda event: None)

    def run(self, pipeline: Any, *, run_id: str | None = None) -> RunResult:
        """Run every node of ``pipeline`` (a ``Pipeline`` or its IR document) once.

        Returns when the Beam pipeline has finished. A node that failed is in the result
        (``failed_nodes``) and in ML Metadata; nodes downstream of it are in ``not_run``.
        Raises ``HeadraceError`` when the Beam pipeline itself fails (a runner or job-server
        error), naming it.
        """
        from headrace_core import ir

        started = time.monotonic()
        document = _document(pipeline)
        nodes = _checked_nodes(document)
        session = open_run(
            document, run_id=run_id, metadata_url=self.metadata_url, orchestrator=ORCHESTRATOR
        )
        url = session.store.url
        if self.isolation == "in-process":
            # As the local runner does: before any executor is imported in this process.
            apply_environment(nodes)
        channel = session.layout.run_workdir(session.run_id, ORCHESTRATOR)
        _channel.reset(channel)
        for node in nodes:
            self._emit(NodeEvent(node["id"], Status.QUEUED))

        watcher = _Watcher(channel, [n["id"] for n in nodes], self._emit)
        failure: BaseException | None = None
        watcher.start()
        try:
            self._run_beam(ir.dumps(document), nodes, session, url, channel)
        except Exception as e:
            failure = e
        finally:
            watcher.stop()

        result = RunResult(session.pipeline_name, session.run_id, url)
        missing = []
        for node in nodes:
            data = watcher.results.get(node["id"])
            if data is None:
                missing.append(node["id"])
            elif data["status"] == Status.NOT_RUN:
                result.not_run[node["id"]] = data.get("message", "")
            else:
                result.results[node["id"]] = NodeResult.from_json(data, session)
        result.duration = time.monotonic() - started
        if failure is None and missing:
            failure = HeadraceError("it finished, but not every step reported an outcome")
        session.finish(result.succeeded and failure is None)
        if failure is None:
            _channel.remove(channel)  # everything it held is in the result and in ML Metadata
        else:
            lines = str(failure).strip().splitlines()
            cause = type(failure).__name__ + (f": {lines[0]}" if lines else "")
            raise HeadraceError(
                f"the Beam pipeline of run {session.run_id} failed on {self.beam_runner}: {cause}"
                + (f"; nodes without an outcome: {', '.join(missing)}" if missing else "")
            ) from failure
        return result

    def _emit(self, event: NodeEvent) -> None:
        self.on_event(event)

    def _run_beam(
        self,
        document_text: str,
        nodes: list[Mapping[str, Any]],
        session: RunSession,
        url: str,
        channel: str,
    ) -> None:
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions

        from headrace_beam._steps import add_steps

        options = PipelineOptions(self.beam_args)
        p = beam.Pipeline(options=options)
        add_steps(
            p,
            document_text,
            nodes,
            run_id=session.run_id,
            metadata_url=url,
            isolation=self.isolation,
            channel=channel,
        )
        state = p.run().wait_until_finish()
        if str(state) not in ("DONE", "PipelineState.DONE"):
            raise HeadraceError(f"the Beam pipeline ended in state {state}")


def _document(pipeline: Any) -> dict[str, Any]:
    from headrace_core import Pipeline, ir

    if isinstance(pipeline, Pipeline):
        return ir.compile(pipeline)
    if isinstance(pipeline, Mapping):
        return dict(pipeline)
    raise HeadraceError(
        f"BeamDagRunner.run takes a Pipeline or its IR document, not {type(pipeline).__name__}"
    )


def _checked_nodes(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The nodes, checked for what the Beam graph relies on: ids that are safe file names and
    labels, and upstream nodes listed before their consumers (the IR's topological order)."""
    nodes = list(document.get("nodes") or [])
    if not nodes:
        raise HeadraceError("the pipeline has no nodes")
    seen: set[str] = set()
    for node in nodes:
        node_id = node.get("id")
        if not (isinstance(node_id, str) and _NODE_ID.match(node_id)):
            raise HeadraceError(f"IR node {node_id!r}: invalid node id")
        for upstream in node.get("upstream", []):
            if upstream not in seen:
                raise HeadraceError(
                    f"IR node {node_id!r}: upstream node {upstream!r} is not listed before it "
                    "(nodes must be in topological order)"
                )
        seen.add(node_id)
    return nodes


class _Watcher:
    """Turns what the steps report under the run's channel folder into ``NodeEvent``s.

    Steps may run in this process (DirectRunner, PortableRunner with a LOOPBACK worker) or in
    other processes (``--direct_running_mode=multi_processing``, PROCESS or DOCKER workers), so
    they report through files beside the pipeline root, which every worker must reach anyway.
    """

    def __init__(self, channel: str, order: list[str], emit: Callable[[NodeEvent], None]) -> None:
        self.channel = channel
        self.order = order
        self.emit = emit
        self.results: dict[str, dict[str, Any]] = {}
        self._running: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="headrace-beam-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._scan()  # what arrived after the last poll

    def _loop(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            self._scan()

    def _scan(self) -> None:
        found = _channel.listing(self.channel)
        if found is None:
            return
        running, results = found
        for node_id in self.order:
            if node_id in self.results:
                continue
            if node_id in running and node_id not in self._running:
                self._running.add(node_id)
                self.emit(NodeEvent(node_id, Status.RUNNING))
            data = _channel.read_result(self.channel, results, node_id)
            if data is None:
                continue
            self.results[node_id] = data
            self.emit(
                NodeEvent(
                    node_id,
                    data["status"],
                    float(data.get("duration") or 0.0),
                    data.get("message", ""),
                )
            )
