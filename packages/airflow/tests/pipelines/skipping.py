"""A condition that is false: Produce -> Count, then Never (only when Count's value is 999)
-> AfterNever. Never is skipped, and AfterNever with it. The root comes from
AIRFLOW_TEST_ROOT."""

from __future__ import annotations

import os

from hrairflow_components import Count, Produce

from headrace_core import Cond, Pipeline


def create_pipeline() -> Pipeline:
    produce = Produce(rows=3)
    count = Count(examples=produce.outputs["examples"])
    with Cond(count.outputs["output"].future()[0].value == 999):
        never = Produce(rows=1).with_id("Never")
    after = Count(examples=never.outputs["examples"]).with_id("AfterNever")
    return Pipeline(
        "hrairflow-skipping", os.environ["AIRFLOW_TEST_ROOT"], [produce, count, never, after]
    )
