"""In a pipeline: the Pusher pushes the model the InfraValidator blessed, and only that one."""

from __future__ import annotations

from pathlib import Path

from headrace_core import Importer, Model, Pipeline
from headrace_core.orchestration.local import LocalDagRunner
from headrace_infravalidator import InfraValidator


def _run(root: Path, model: Path) -> dict[str, object]:
    from headrace_pusher import Pusher

    imported = Importer(source_uri=str(model), artifact_type=Model).with_id("ImportModel")
    validator = InfraValidator(
        model=imported.outputs["result"],
        serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}},
        validation_spec={"num_tries": 1},
    )
    pusher = Pusher(
        model=imported.outputs["result"],
        infra_blessing=validator.outputs["blessing"],
        push_destination={"filesystem": {"base_directory": str(root / "serving")}},
    )
    result = LocalDagRunner(max_parallel=1).run(
        Pipeline("infra", str(root / "pipeline"), [imported, validator, pusher])
    )
    assert result.succeeded, result.to_json()
    [blessing] = result.results["InfraValidator"].outputs["blessing"]
    [pushed] = result.results["Pusher"].outputs["pushed_model"]
    return {
        "blessed": blessing.get_custom_property("blessed"),
        "pushed": pushed.get_custom_property("pushed"),
        "versions": sorted(p.name for p in (root / "serving").glob("[0-9]*")),
    }


def test_only_an_infra_blessed_model_is_pushed(tmp_path: Path, models: dict[str, Path]) -> None:
    refused = _run(tmp_path / "corrupt", models["corrupt"])
    assert refused == {"blessed": 0, "pushed": 0, "versions": []}
    accepted = _run(tmp_path / "good", models["good"])
    assert accepted["blessed"] == 1 and accepted["pushed"] == 1
    assert len(accepted["versions"]) == 1  # type: ignore[arg-type]


def test_make_warmup_publishes_the_stamped_model_with_the_blessing(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    # Through the runtime, which stages outputs: the published blessing, at its final path,
    # holds the whole stamped model and nothing temporary.
    from headrace_core import Examples

    imported = Importer(source_uri=str(models["good"]), artifact_type=Model).with_id("ImportModel")
    canaries = Importer(
        source_uri=str(examples),
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
        custom_properties={"payload_format": "FORMAT_TF_EXAMPLE"},
    ).with_id("ImportExamples")
    validator = InfraValidator(
        model=imported.outputs["result"],
        examples=canaries.outputs["result"],
        serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}},
        request_spec={"tensorflow_serving": {}, "num_examples": 2, "make_warmup": True},
        validation_spec={"num_tries": 1},
    )
    pipeline = Pipeline("warmup", str(tmp_path / "pipeline"), [imported, canaries, validator])
    result = LocalDagRunner(max_parallel=1).run(pipeline)
    assert result.succeeded, result.to_json()
    [blessing] = result.results["InfraValidator"].outputs["blessing"]
    assert blessing.custom_properties["blessed"] == 1
    assert blessing.custom_properties["has_model"] == 1
    uri = Path(blessing.uri)
    assert uri.name == str(result.results["InfraValidator"].execution_id)
    assert sorted(p.name for p in uri.iterdir()) == [
        "INFRA_BLESSED",
        "infra_validation.json",
        "stamped_model",
    ]
    stamped = uri / "stamped_model"
    assert (stamped / "saved_model.pb").is_file()
    assert (stamped / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0

    again = LocalDagRunner(max_parallel=1).run(pipeline)
    assert again.results["InfraValidator"].status == "cached"
