"""Closing a run from what the store holds: the one rule for whether a run succeeded.

A runner that drives every node in-process knows the outcome; an orchestrator that ran each
node in a process of its own (Airflow, KFP) does not, so its last task asks the store. Both
go through :func:`close_run`, so ``headrace runs list`` reads the same status either way.
"""

from __future__ import annotations

from typing import Any

from headrace_core.metadata import RUN_CONTEXT, custom, run_context_name
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import Status

__all__ = ["close_run", "run_succeeded"]

#: A node's latest execution in a run with one of these statuses counts as done.
_DONE = Status.FINISHED


def _latest_in_run(session: RunSession) -> dict[str, Any]:
    # Read the store afresh, not the session's cache: the nodes ran in other processes,
    # after this session may have been opened.
    ctx = session.store.get_context(
        RUN_CONTEXT, run_context_name(session.pipeline_name, session.run_id)
    )
    latest: dict[str, Any] = {}
    if ctx is None:
        return latest
    for execution in session.store.executions_in_context(ctx.id, newest_first=False):
        latest[str(custom(execution, "node_id"))] = execution
    return latest


def run_succeeded(session: RunSession) -> bool:
    """Whether every node of the session's IR has a latest execution in this run that
    completed, was cached or was skipped. A node that failed, was abandoned, is still
    running or never launched makes the run failed. A node a partial run reuses
    (``reuse_latest``) and did not execute counts with its latest successful execution from
    any run."""
    latest = _latest_in_run(session)
    for node_id in session.nodes:
        execution = latest.get(node_id)
        if execution is not None:
            status = custom(execution, "status")
            if status in _DONE:
                continue
            if node_id not in session.reuse_latest:
                return False
        if node_id in session.reuse_latest and session.latest_success_any_run(node_id):
            continue
        return False
    return True


def close_run(session: RunSession) -> bool:
    """Close the session's run (``status`` and ``finished_at`` on its run context) as
    :func:`run_succeeded` decides; return that decision."""
    succeeded = run_succeeded(session)
    session.finish(succeeded)
    return succeeded
