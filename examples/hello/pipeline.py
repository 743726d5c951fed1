"""The hello pipeline: numbers in, a blessed linear model pushed out.

    headrace run examples/hello/pipeline.py           # run it (again: everything is cached)
    headrace run examples/hello/pipeline.py --dry-run # what would run
    headrace runs list --pipeline-root build/hello    # what ran

Set HELLO_COUNT, HELLO_EPOCHS or HELLO_MAX_ERROR to change a parameter and watch only the
affected nodes re-run; HELLO_ROOT moves the default pipeline root (build/hello). Models are
pushed under the root of the run, ``<root>/serving/``, wherever ``--pipeline-root`` puts it.
"""

from __future__ import annotations

import os

from components import Describe, Evaluate, MakeNumbers, Push, Train

from headrace_core import PIPELINE_ROOT, Cond, Pipeline


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("HELLO_ROOT", os.path.join("build", "hello")))
    numbers = MakeNumbers(count=int(os.environ.get("HELLO_COUNT", "60")))
    describe = Describe(examples=numbers.outputs["examples"])
    train = Train(
        examples=numbers.outputs["examples"], epochs=int(os.environ.get("HELLO_EPOCHS", "200"))
    )
    evaluate = Evaluate(
        examples=numbers.outputs["examples"],
        model=train.outputs["model"],
        max_error=float(os.environ.get("HELLO_MAX_ERROR", "1.0")),
    )
    with Cond(evaluate.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        push = Push(
            model=train.outputs["model"], base_directory=os.path.join(PIPELINE_ROOT, "serving")
        )
    return Pipeline(
        pipeline_name="hello",
        pipeline_root=root,
        components=[numbers, describe, train, evaluate, push],
    )
