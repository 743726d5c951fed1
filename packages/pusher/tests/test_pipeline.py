"""The Pusher in pipelines run by LocalDagRunner: a function component exports a real
SavedModel, another blesses it (or not), the Pusher pushes it; what ML Metadata records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrpush_components import Bless, ExportModel
from pusher_testing import predict

from headrace_core import Pipeline
from headrace_core.metadata import MetadataStore, default_metadata_url
from headrace_core.orchestration.local import LocalDagRunner, RunResult
from headrace_core.testing import show_artifact


def _pipeline(
    root: Path, serving: Path | str, *, blessed: int = 1, rebless: bool = False
) -> Pipeline:
    from headrace_pusher import Pusher

    export = ExportModel(scale=2.0).with_id("Trainer")
    bless = Bless(model=export.outputs["model"], blessed=blessed).with_id("Evaluator")
    if rebless:
        # A new blessing artifact on every run, for the same (cached) model.
        bless = bless.with_cache(False)
    pusher = Pusher(
        model=export.outputs["model"],
        model_blessing=bless.outputs["blessing"],
        push_destination={"filesystem": {"base_directory": str(serving)}},
    )
    return Pipeline("push", str(root), [export, bless, pusher])


def _statuses(result: RunResult) -> dict[str, str]:
    return {n: r.status for n, r in result.results.items()}


def _pushed_models_in_mlmd(root: Path) -> list[dict[str, Any]]:
    from headrace_core.metadata import get_value

    store = MetadataStore(default_metadata_url(str(root)))
    found = []
    for proto in store.call("get_artifacts"):
        if store.artifact_type_name(proto.type_id) != "PushedModel":
            continue
        custom = {k: get_value(v) for k, v in proto.custom_properties.items()}
        custom.pop("fingerprint", None)
        found.append({"id": proto.id, "uri": proto.uri, "custom": custom})
    return sorted(found, key=lambda a: a["id"])


def _versions(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.isdigit())


def test_blessed_model_is_pushed_recorded_and_cached(pipeline_root: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving" / "penguin"
    first = LocalDagRunner().run(_pipeline(pipeline_root, serving))
    assert first.succeeded, first.to_json()
    assert _statuses(first) == dict.fromkeys(("Trainer", "Evaluator", "Pusher"), "complete")
    [pushed] = first.results["Pusher"].outputs["pushed_model"]
    [version] = _versions(serving)
    assert predict(serving / version, [1.0, -3.0]) == [2.0, -6.0]
    assert predict(pushed.uri, [5.0]) == [10.0]  # TFX's archive copy in the artifact

    assert _pushed_models_in_mlmd(pipeline_root) == [
        {
            "id": pushed.id,
            "uri": pushed.uri,
            "custom": {
                "pushed": 1,
                "pushed_destination": str(serving / version),
                "pushed_version": version,
            },
        }
    ]

    second = LocalDagRunner().run(_pipeline(pipeline_root, serving))
    assert second.succeeded
    assert _statuses(second)["Pusher"] == "cached"
    assert [a.id for a in second.results["Pusher"].outputs["pushed_model"]] == [pushed.id]
    assert _versions(serving) == [version]


def test_a_destination_under_the_pipeline_root_follows_the_root(tmp_path: Path) -> None:
    from headrace_core import PIPELINE_ROOT

    serving = f"{PIPELINE_ROOT}/serving_model"
    for name in ("A", "B"):
        result = LocalDagRunner().run(_pipeline(tmp_path / name, serving))
        assert result.succeeded, result.to_json()
        assert _statuses(result)["Pusher"] == "complete"
        [version] = _versions(tmp_path / name / "serving_model")
        [pushed] = _pushed_models_in_mlmd(tmp_path / name)
        assert pushed["custom"]["pushed_destination"] == str(
            tmp_path / name / "serving_model" / version
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B"]


def test_a_reblessed_model_records_the_version_already_pushed(
    pipeline_root: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving" / "penguin"
    pipeline = _pipeline(pipeline_root, serving, rebless=True)
    first = LocalDagRunner().run(pipeline)
    second = LocalDagRunner().run(pipeline)
    assert first.succeeded and second.succeeded, second.to_json()
    assert _statuses(second) == {
        "Trainer": "cached",
        "Evaluator": "complete",
        "Pusher": "complete",  # a new blessing: the Pusher runs again...
    }
    # ...and finds the model already being the latest version: no second copy.
    [version] = _versions(serving)
    records = _pushed_models_in_mlmd(pipeline_root)
    assert len(records) == 2
    assert [r["custom"]["pushed_version"] for r in records] == [version, version]
    assert records[0]["id"] != records[1]["id"]


def test_a_model_that_is_not_blessed_is_not_pushed(pipeline_root: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving" / "penguin"
    result = LocalDagRunner().run(_pipeline(pipeline_root, serving, blessed=0))
    assert result.succeeded, result.to_json()
    assert _statuses(result)["Pusher"] == "complete"
    assert not serving.exists()
    [pushed] = _pushed_models_in_mlmd(pipeline_root)
    assert pushed["custom"] == {"pushed": 0}
    assert not list(Path(pushed["uri"]).iterdir())

    shown = show_artifact(pipeline_root, pushed["id"])
    assert shown["summary"].splitlines()[1:] == ["pushed: no (the model was not blessed)"]


def test_headrace_show_summarizes_a_push(pipeline_root: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving" / "penguin"
    result = LocalDagRunner().run(_pipeline(pipeline_root, serving))
    assert result.succeeded, result.to_json()
    [pushed] = result.results["Pusher"].outputs["pushed_model"]
    [version] = _versions(serving)
    assert pushed.id is not None
    shown = show_artifact(pipeline_root, pushed.id)
    assert shown["summary"].splitlines() == [
        f"PushedModel #{pushed.id} at {pushed.uri}",
        "pushed: yes",
        f"destination: {serving / version}",
        f"version: {version}",
    ]
    assert shown["data"] == {
        "pushed": 1,
        "destination": str(serving / version),
        "version": version,
        "destination_exists": True,
    }
