"""The executor with real SavedModels in a real server process: blessed when the model loads
and answers canary requests from the penguin examples; not blessed, with each try's reason,
when it does not load, loads too slowly or cannot take the requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infravalidator_testing import examples_artifact, model_artifact

from headrace_core import InfraBlessing
from headrace_infravalidator import InfraValidatorError
from headrace_infravalidator.specs import normalize_request_spec, normalize_validation_spec

SERVING = {"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}}
REQUESTS = normalize_request_spec({"tensorflow_serving": {}, "num_examples": 5})


def _validate(
    out: Path, model: Path, examples: Path | None = None, **properties: Any
) -> tuple[InfraBlessing, dict[str, Any]]:
    from headrace_core.executor import ExecutorContext
    from headrace_infravalidator.executor import Executor

    blessing = InfraBlessing(str(out / "blessing"), id=9)
    inputs: dict[str, list[Any]] = {"model": [model_artifact(model)]}
    if examples is not None:
        inputs["examples"] = [examples_artifact(examples)]
    exec_properties = {"serving_spec": SERVING, "validation_spec": {}, **properties}
    (out / "tmp").mkdir(parents=True, exist_ok=True)
    Executor(ExecutorContext(tmp_dir=str(out / "tmp"))).Do(
        inputs, {"blessing": [blessing]}, exec_properties
    )
    report = json.loads((Path(blessing.uri) / "infra_validation.json").read_text())
    return blessing, report


def _markers(blessing: InfraBlessing) -> list[str]:
    return sorted(p.name for p in Path(blessing.uri).iterdir() if p.name.startswith("INFRA"))


def test_a_model_that_serves_the_canaries_is_blessed(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    blessing, report = _validate(tmp_path, models["good"], examples, request_spec=REQUESTS)
    assert blessing.get_custom_property("blessed") == 1
    assert _markers(blessing) == ["INFRA_BLESSED"]
    assert report["requests"] == [{"signature": "serving_default", "examples": 5}]
    [attempt] = report["tries"]
    assert attempt["ok"] and attempt["requests"] == 1 and attempt["load_seconds"] > 0
    assert report["serving_spec"] == SERVING and report["tag_set"] == ["serve"]


def test_without_requests_the_model_need_only_load(tmp_path: Path, models: dict[str, Path]) -> None:
    blessing, report = _validate(tmp_path, models["good"])
    assert blessing.get_custom_property("blessed") == 1
    assert report["requests"] == []


def test_a_model_that_does_not_load_is_not_blessed_after_every_try(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    blessing, report = _validate(
        tmp_path,
        models["corrupt"],
        examples,
        request_spec=REQUESTS,
        validation_spec=normalize_validation_spec({"num_tries": 2}),
    )
    assert blessing.get_custom_property("blessed") == 0
    assert _markers(blessing) == ["INFRA_NOT_BLESSED"]
    assert len(report["tries"]) == 2
    assert all(t["reason"].startswith("the model did not load: ") for t in report["tries"])


def test_requests_the_model_cannot_take(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    spec = normalize_request_spec({"tensorflow_serving": {"signature_names": ["predict"]}})
    _, report = _validate(
        tmp_path / "a",
        models["good"],
        examples,
        request_spec=spec,
        validation_spec={"num_tries": 1},
    )
    assert report["tries"][0]["reason"] == (
        "the request to 'predict' failed: no signature 'predict' (signatures: serving_default)"
    )
    blessing, report = _validate(
        tmp_path / "b",
        models["two_inputs"],
        examples,
        request_spec=REQUESTS,
        validation_spec={"num_tries": 1},
    )
    assert blessing.get_custom_property("blessed") == 0
    assert "takes 2 inputs (a, b)" in report["tries"][0]["reason"]


def test_a_model_that_loads_too_slowly(tmp_path: Path, models: dict[str, Path]) -> None:
    # The server process imports TensorFlow before it loads anything: more than a second.
    blessing, report = _validate(
        tmp_path, models["good"], validation_spec={"max_loading_time_seconds": 1, "num_tries": 1}
    )
    assert blessing.get_custom_property("blessed") == 0
    assert report["tries"][0]["reason"] == "loading the model: no answer within 1 s"


def test_wiring_errors_are_named(tmp_path: Path, models: dict[str, Path], examples: Path) -> None:
    with pytest.raises(InfraValidatorError, match="input 'examples' is not given"):
        _validate(tmp_path / "a", models["good"], request_spec=REQUESTS)
    spec = normalize_request_spec({"tensorflow_serving": {}, "split_name": "test"})
    with pytest.raises(
        InfraValidatorError, match=r"'test' is not a split of examples .* train, eval"
    ):
        _validate(tmp_path / "b", models["good"], examples, request_spec=spec)
    blessing, report = _validate(tmp_path / "c", tmp_path / "nothing")
    assert blessing.get_custom_property("blessed") == 0
    assert report["tries"][0]["reason"].startswith("no saved_model.pb in ")
