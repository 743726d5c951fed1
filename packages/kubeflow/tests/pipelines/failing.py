"""A three-node chain whose middle node raises: Produce -> Explode -> Consume.

CONFORMANCE_ROOT sets the pipeline root."""

from __future__ import annotations

import os

from kfpt_components import Consume, Explode, Produce

from headrace_core import Pipeline


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("CONFORMANCE_ROOT", os.path.join("build", "failing")))
    produce = Produce()
    explode = Explode(examples=produce.outputs["examples"])
    consume = Consume(examples=explode.outputs["copy"])
    return Pipeline("failing", root, [produce, explode, consume])
