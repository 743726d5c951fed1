"""Resolvers pick artifacts from the history recorded in MLMD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrexec_components import (
    Bless,
    Compare,
    MakeExamples,
    Memo,
    MemoKeyed,
    Relabel,
    Summarize,
    TrainAlone,
)
from hrexec_util import (
    CACHED,
    COMPLETE,
    INPUT,
    INTERNAL_OUTPUT,
    OUTPUT,
    by_node,
    events_of,
    open_store,
    outputs_of,
    run_executions,
)

from headrace_core import (
    Channel,
    Examples,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    Model,
    ModelBlessing,
    Pipeline,
    Resolver,
    SpanRangeStrategy,
    TransformCache,
)
from headrace_core.orchestration.local import LocalDagRunner, RunResult


def _run(pipeline: Pipeline, **kwargs: Any) -> RunResult:
    result = LocalDagRunner(max_parallel=2).run(pipeline, **kwargs)
    assert result.succeeded, {n: r.error for n, r in result.results.items()}
    return result


def _resolved(result: RunResult, node_id: str) -> dict[str, list[int]]:
    """What the resolver returned, as the runner saw it and as MLMD recorded it."""
    store = open_store(Path(result.metadata_url[len("sqlite://") :]).parent)
    execution = by_node(run_executions(store, result.pipeline_name, result.run_id))[node_id]
    assert execution.last_known_state == COMPLETE
    recorded = outputs_of(store, execution)
    # A resolver produces nothing: it links what it picked.
    assert events_of(store, execution.id, OUTPUT) == {}
    assert recorded == events_of(store, execution.id, INTERNAL_OUTPUT)
    seen = {k: [a.id for a in v] for k, v in result.results[node_id].outputs.items()}
    assert {k: v for k, v in seen.items() if v} == recorded
    return seen


def _only(result: RunResult, node_id: str, key: str) -> int:
    [artifact] = result.results[node_id].outputs[key]
    assert artifact.id is not None
    return artifact.id


def test_latest_artifact_strategy(pipeline_root: Path) -> None:
    def pipeline(span: int) -> Pipeline:
        make = MakeExamples(span=span)
        latest = Resolver(LatestArtifactStrategy, examples=make.outputs["examples"])
        everywhere = Resolver(LatestArtifactStrategy, examples=Channel(type=Examples))
        everywhere.with_id("AnyExamples").add_upstream_node(make)
        return Pipeline("latest", str(pipeline_root), [make, latest, everywhere])

    made = []
    for span in (1, 2, 3):
        result = _run(pipeline(span))
        made.append(_only(result, "MakeExamples", "examples"))
        assert _resolved(result, "Resolver") == {"examples": [made[-1]]}
        assert _resolved(result, "AnyExamples") == {"examples": [made[-1]]}
        assert result.results["Resolver"].outputs["examples"][0].span == span
    # Span 1 again comes from the cache: the most recently published artifact is still span 3's.
    result = _run(pipeline(1))
    assert result.results["MakeExamples"].status == "cached"
    assert _only(result, "MakeExamples", "examples") == made[0]
    assert _resolved(result, "Resolver") == {"examples": [made[2]]}


def test_latest_artifact_reads_the_named_output_of_its_producer(pipeline_root: Path) -> None:
    def pipeline(rows: int, shift: int) -> Pipeline:
        make = MakeExamples(rows=rows)
        summary = Summarize(examples=make.outputs["examples"])
        relabel = Relabel(examples=make.outputs["examples"], shift=shift)
        rows_r = Resolver(LatestArtifactStrategy, rows=summary.outputs["rows"]).with_id("Rows")
        total_r = Resolver(LatestArtifactStrategy, total=summary.outputs["total"]).with_id("Total")
        relabeled = Resolver(LatestArtifactStrategy, examples=relabel.outputs["relabeled"])
        relabeled.with_id("Relabeled")
        return Pipeline(
            "named_output",
            str(pipeline_root),
            [make, summary, relabel, rows_r, total_r, relabeled],
        )

    first = _run(pipeline(rows=4, shift=1))
    # Summarize has two Integer outputs: each resolver gets the one it names.
    assert _resolved(first, "Rows") == {"rows": [_only(first, "Summarize", "rows")]}
    assert _resolved(first, "Total") == {"total": [_only(first, "Summarize", "total")]}
    relabeled = _only(first, "Relabel", "relabeled")
    assert _resolved(first, "Relabeled") == {"examples": [relabeled]}

    # Relabel fails on newer examples; then only the resolver runs, reusing the rest.
    failed = LocalDagRunner(max_parallel=2).run(pipeline(rows=5, shift=-1))
    assert failed.failed_nodes == ["Relabel"]
    newer_examples = _only(failed, "MakeExamples", "examples")
    again = _run(pipeline(rows=5, shift=-1), from_nodes=["Relabeled"])
    assert set(again.results) == {"Relabeled"}
    # Relabel's input (newer, and also an Examples artifact) is not one of its outputs.
    assert _resolved(again, "Relabeled") == {"examples": [relabeled]}
    assert newer_examples != relabeled


def test_latest_blessed_model_strategy(pipeline_root: Path) -> None:
    def pipeline(seed: int, bless: int) -> Pipeline:
        baseline = Resolver(
            LatestBlessedModelStrategy,
            model=Channel(type=Model),
            blessing=Channel(type=ModelBlessing),
        ).with_id("Baseline")
        train = TrainAlone(seed=seed)
        train.add_upstream_node(baseline)  # resolve before this run's model exists
        blessing = Bless(model=train.outputs["model"], bless=bless)
        return Pipeline("blessed", str(pipeline_root), [baseline, train, blessing])

    models: list[int] = []
    blessings: list[int] = []
    expected: list[int | None] = [None, 0, 0, 2, 2]
    for run, (seed, bless) in enumerate([(1, 1), (2, 0), (3, 1), (4, 0), (5, 0)]):
        result = _run(pipeline(seed, bless))
        picked = _resolved(result, "Baseline")
        if expected[run] is None:
            # The first run has no blessed model yet: nothing is resolved.
            assert picked == {"model": [], "blessing": []}
        else:
            i = expected[run]
            assert i is not None
            assert picked == {"model": [models[i]], "blessing": [blessings[i]]}
            blessing = result.results["Baseline"].outputs["blessing"][0]
            assert blessing.get_custom_property("blessed") == 1
            assert blessing.get_custom_property("current_model_id") == models[i]
        models.append(_only(result, "TrainAlone", "model"))
        blessings.append(_only(result, "Bless", "blessing"))


def test_span_range_strategy(pipeline_root: Path) -> None:
    def pipeline(span: int, version: int) -> Pipeline:
        make = MakeExamples(span=span, version=version)
        static = Resolver(
            SpanRangeStrategy,
            config={
                "range_config": {"static_range": {"start_span_number": 1, "end_span_number": 3}}
            },
            examples=Channel(type=Examples),
        ).with_id("Static")
        rolling = Resolver(
            SpanRangeStrategy,
            config={"range_config": {"rolling_range": {"num_spans": 2}}},
            examples=Channel(type=Examples),
        ).with_id("Rolling")
        for resolver in (static, rolling):
            resolver.add_upstream_node(make)
        return Pipeline("spans", str(pipeline_root), [make, static, rolling])

    made: dict[tuple[int, int], int] = {}

    def picked(result: RunResult, node_id: str) -> list[tuple[int, int]]:
        ids = _resolved(result, node_id)["examples"]
        by_id = {v: k for k, v in made.items()}
        return [by_id[i] for i in ids]

    result = _run(pipeline(0, 0))
    made[(0, 0)] = _only(result, "MakeExamples", "examples")
    assert picked(result, "Static") == []
    assert picked(result, "Rolling") == [(0, 0)]

    for span, version in [(3, 0), (1, 0), (2, 1), (2, 0), (4, 0)]:
        result = _run(pipeline(span, version))
        made[(span, version)] = _only(result, "MakeExamples", "examples")
    # Span 2 twice: the higher version wins even though version 0 was published later.
    assert picked(result, "Static") == [(1, 0), (2, 1), (3, 0)]
    assert picked(result, "Rolling") == [(3, 0), (4, 0)]
    artifacts = result.results["Static"].outputs["examples"]
    assert [(a.span, a.version) for a in artifacts] == [(1, 0), (2, 1), (3, 0)]


def test_dry_run_of_a_pipeline_that_never_ran_predicts_an_empty_resolution(
    pipeline_root: Path,
) -> None:
    baseline = Resolver(LatestArtifactStrategy, model=Channel(type=Model)).with_id("Baseline")
    train = TrainAlone()
    train.add_upstream_node(baseline)
    pipeline = Pipeline("fresh", str(pipeline_root), [baseline, train])
    plan = LocalDagRunner().plan(pipeline)
    assert [(p.node_id, p.status) for p in plan] == [("Baseline", "run"), ("TrainAlone", "run")]
    assert plan[0].outputs == {"model": []}
    # The plan created nothing: not even the metadata store.
    assert not (pipeline_root / "metadata.sqlite").exists()


def test_one_artifact_under_two_input_keys(pipeline_root: Path) -> None:
    """The latest model the resolver finds is the model itself (as when an Evaluator's
    baseline is the model it evaluates). MLMD allows one INPUT event per artifact and
    execution: headrace records one event with both places, the executor sees the artifact
    under both keys, and the cached rerun links it the same way."""

    def pipeline() -> Pipeline:
        train = TrainAlone(seed=1)
        latest = Resolver(model=Channel(type=Model)).with_id("latest_model")
        latest.add_upstream_node(train)
        compare = Compare(model=train.outputs["model"], baseline=latest.outputs["model"])
        return Pipeline(
            pipeline_name="two-keys",
            pipeline_root=str(pipeline_root),
            components=[train, latest, compare],
        )

    for expected_state in (COMPLETE, CACHED):
        result = _run(pipeline())
        model = _only(result, "TrainAlone", "model")
        store = open_store(pipeline_root)
        execution = by_node(run_executions(store, "two-keys", result.run_id))["Compare"]
        assert execution.last_known_state == expected_state
        assert events_of(store, execution.id, INPUT) == {"model": [model], "baseline": [model]}
        [event] = [e for e in store.events([execution.id]) if e.type == INPUT]
        assert event.artifact_id == model
        [same] = result.results["Compare"].outputs["output"]
        assert same.read() == 1  # the executor was handed one artifact under both keys


def test_one_artifact_for_two_resolver_channels(pipeline_root: Path) -> None:
    """A resolver whose two channels pick the same artifact links it once, under both keys,
    and a consumer of each key gets it."""
    train = TrainAlone(seed=2)
    latest = Resolver(model=Channel(type=Model), also=Channel(type=Model)).with_id("latest")
    latest.add_upstream_node(train)
    compare = Compare(model=latest.outputs["model"], baseline=latest.outputs["also"])
    pipeline = Pipeline(
        pipeline_name="two-channels",
        pipeline_root=str(pipeline_root),
        components=[train, latest, compare],
    )
    result = _run(pipeline)
    model = _only(result, "TrainAlone", "model")
    assert _resolved(result, "latest") == {"model": [model], "also": [model]}
    [same] = result.results["Compare"].outputs["output"]
    assert same.read() == 1
    # Cached: the rerun links the resolver's picks again, as one event.
    rerun = _run(pipeline)
    assert _resolved(rerun, "latest") == {"model": [model], "also": [model]}


def test_an_input_left_out_of_the_key_lets_a_fed_back_cache_hit(pipeline_root: Path) -> None:
    # TFX's transform_cache_resolver: each run's Transform gets the previous run's cache.
    def pipeline(memo_type: type[Any], name: str) -> Pipeline:
        make = MakeExamples(rows=3)
        previous = Resolver(LatestArtifactStrategy, memo=Channel(type=TransformCache))
        previous.with_id("PreviousMemo")
        memo = memo_type(examples=make.outputs["examples"], memo=previous.outputs["memo"])
        return Pipeline(name, str(pipeline_root / name), [make, previous, memo.with_id("Memo")])

    for memo_type, second in ((Memo, "cached"), (MemoKeyed, "complete")):
        name = memo_type.__name__.lower()
        first = _run(pipeline(memo_type, name))
        assert first.results["PreviousMemo"].outputs["memo"] == []
        again = _run(pipeline(memo_type, name))
        assert _resolved(again, "PreviousMemo") == {"memo": [_only(first, "Memo", "updated_memo")]}
        assert again.results["Memo"].status == second, name
