"""Two nodes: WaitThenProduce (blocks until <AIRFLOW_TEST_SIGNALS>/go exists) -> Count.

The root comes from AIRFLOW_TEST_ROOT."""

from __future__ import annotations

import os

from hrairflow_components import Count, WaitThenProduce

from headrace_core import Pipeline


def create_pipeline() -> Pipeline:
    wait = WaitThenProduce(signal_dir=os.environ["AIRFLOW_TEST_SIGNALS"]).with_id("Wait")
    count = Count(examples=wait.outputs["examples"])
    return Pipeline("hrairflow-waiting", os.environ["AIRFLOW_TEST_ROOT"], [wait, count])
