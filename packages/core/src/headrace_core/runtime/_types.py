"""What the runtime hands out: node statuses, per-node results and events, run results."""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headrace_core.artifacts import Artifact
from headrace_core.errors import HeadraceError

if TYPE_CHECKING:
    from headrace_core.runtime._session import RunSession

__all__ = [
    "LaunchError",
    "NodeEvent",
    "NodeResult",
    "Prediction",
    "RunResult",
    "Status",
    "new_run_id",
]


class Status(enum.StrEnum):
    """A node's outcome, as stored in each execution's ``status`` custom property.

    ``QUEUED`` and ``NOT_RUN`` exist only in a runner's events (a node waiting, or never
    started because an upstream node failed); ``RUN`` and ``UNKNOWN`` only in predictions.
    None of those four is ever stored.
    """

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    ABANDONED = "abandoned"
    NOT_RUN = "not_run"
    RUN = "run"
    UNKNOWN = "unknown"

    # Values, not members, so that plain strings read back from the store compare too.
    SUCCESS = enum.nonmember(frozenset({"complete", "cached"}))
    FINISHED = enum.nonmember(frozenset({"complete", "cached", "skipped"}))


class LaunchError(HeadraceError):
    """A node cannot be launched: its upstream did not finish, an input is missing, ..."""


def new_run_id() -> str:
    """Sortable and unique: ``20261126T213000-1a2b3c``."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


@dataclass
class NodeResult:
    """The outcome of launching one node."""

    node_id: str
    status: str
    execution_id: int | None = None
    duration: float = 0.0
    error: str | None = None
    message: str = ""
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)
    #: ``file:line, in function`` of the user's code where a failure was raised.
    where: str | None = None

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        session: RunSession | None = None,
        *,
        duration: float | None = None,
    ) -> NodeResult:
        """A result written by ``python -m headrace_core.launch --result-file`` (``to_json``),
        with its outputs read back from the store when ``session`` is given, as an in-process
        launch returns them. Every runner that launches nodes in other processes uses this."""
        execution_id = data.get("execution_id")
        status = str(data.get("status"))
        outputs = (
            session.outputs_of_execution(int(execution_id))
            if session is not None and execution_id is not None and status in Status.SUCCESS
            else {}
        )
        return cls(
            str(data["node_id"]),
            _status(status),
            execution_id,
            float(data.get("duration") or 0.0) if duration is None else duration,
            error=data.get("error"),
            message=str(data.get("message") or ""),
            outputs=outputs,
            where=data.get("where"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "status": str(self.status),
            "execution_id": self.execution_id,
            "duration": round(self.duration, 6),
            "error": self.error,
            "message": self.message,
            "outputs": {k: [a.id for a in v] for k, v in self.outputs.items()},
            "where": self.where,
        }

    @property
    def explained(self) -> str:
        """The message, with where in the user's code it came from."""
        return _explained(self.message, self.where)


def _explained(message: str, where: str | None) -> str:
    return message + (f" (at {where})" if where else "")


def _status(value: str) -> str:
    try:
        return Status(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class NodeEvent:
    """Progress of one node: queued, running, then a final status."""

    node_id: str
    status: str  # a Status value
    duration: float = 0.0
    message: str = ""
    where: str | None = None  # of a failure, in the user's code

    @property
    def explained(self) -> str:
        """The message, with where in the user's code it came from."""
        return _explained(self.message, self.where)


@dataclass
class RunResult:
    """What a runner returns: every launched node's result, and the nodes never started."""

    pipeline_name: str
    run_id: str
    metadata_url: str
    results: dict[str, NodeResult] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0

    @property
    def succeeded(self) -> bool:
        return not self.not_run and all(r.status in Status.FINISHED for r in self.results.values())

    @property
    def failed_nodes(self) -> list[str]:
        return [n for n, r in self.results.items() if r.status == Status.FAILED]

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline_name,
            "run_id": self.run_id,
            "metadata": self.metadata_url,
            "succeeded": self.succeeded,
            "duration": round(self.duration, 6),
            "nodes": {k: v.to_json() for k, v in self.results.items()},
            "not_run": self.not_run,
        }


@dataclass
class Prediction:
    """What launching a node now would do, without doing it: the decision function's answer
    (:func:`headrace_core.runtime.decide`) in the words of a plan."""

    node_id: str
    status: str  # Status.CACHED, RUN, SKIPPED or UNKNOWN
    reason: str = ""
    cache_key: str | None = None
    parts: dict[str, Any] | None = None
    hit_execution: int | None = None
    outputs: dict[str, list[Artifact]] | None = None
