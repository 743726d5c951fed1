"""A three-node chain whose middle node raises: Produce -> Fail -> Count-like consumer.

The root comes from AIRFLOW_TEST_ROOT."""

from __future__ import annotations

import os

from hrairflow_components import Count, Fail, Produce

from headrace_core import Pipeline


def create_pipeline() -> Pipeline:
    produce = Produce()
    fail = Fail(examples=produce.outputs["examples"])
    after = Count(examples=produce.outputs["examples"]).with_id("After")
    after.add_upstream_node(fail)
    return Pipeline("hrairflow-failing", os.environ["AIRFLOW_TEST_ROOT"], [produce, fail, after])
