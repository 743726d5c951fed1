"""The penguin example as the integration tests name it: its pipeline file and its nodes.

The node ids are spelled out, not read from the pipeline, so that a renamed or lost node
fails the tests that expect it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA", "NODES", "PIPELINE", "RESOLVER", "UP_TO_TRAINER"]

_REPO = Path(__file__).resolve().parents[1]
#: Relative to the repository root, where the tests run ``headrace``.
PIPELINE = "examples/penguin/pipeline.py"
DATA = _REPO / "examples" / "penguin" / "data" / "penguins_processed.csv"
UP_TO_TRAINER = [
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
]
#: Resolves the latest blessed model from history: it records a COMPLETE execution in every
#: run, doing no work, so it is never "cached".
RESOLVER = "latest_blessed_model_resolver"
NODES = [*UP_TO_TRAINER, RESOLVER, "Evaluator", "Pusher"]
