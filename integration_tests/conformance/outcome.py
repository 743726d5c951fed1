"""What a conformance driver reports about one pipeline run it started."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Outcome"]


@dataclass
class Outcome:
    run_id: str
    succeeded: bool
    failed_nodes: list[str] = field(default_factory=list)
    log: str = ""  # what the orchestrator printed, shown when an assertion fails
