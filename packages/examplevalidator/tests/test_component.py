"""The component: its spec, argument checks, the IR, and the plugin contract."""

from __future__ import annotations

import pytest

from headrace_core import (
    ExampleAnomalies,
    ExampleStatistics,
    Importer,
    InvalidComponentArgumentError,
    Pipeline,
    Schema,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution
from headrace_examplevalidator import ExampleValidator, ExampleValidatorSpec, __version__


def _importers() -> tuple[Importer, Importer]:
    stats = Importer(
        source_uri="/data/stats",
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("stats")
    schema = Importer(source_uri="/data/schema", artifact_type=Schema).with_id("schema")
    return stats, schema


def test_tfx_names() -> None:
    assert set(ExampleValidatorSpec.INPUTS) == {
        "statistics",
        "schema",
        "baseline_statistics",
        "serving_statistics",
    }
    assert ExampleValidatorSpec.INPUTS["baseline_statistics"].optional
    assert ExampleValidatorSpec.INPUTS["serving_statistics"].optional
    assert set(ExampleValidatorSpec.PARAMETERS) == {
        "exclude_splits",
        "fail_on_anomalies",
        "serving_split_name",
    }
    assert ExampleValidatorSpec.OUTPUTS["anomalies"].type is ExampleAnomalies
    stats, schema = _importers()
    validator = ExampleValidator(stats.outputs["result"], schema.outputs["result"])
    assert validator.outputs["anomalies"].type is ExampleAnomalies
    assert validator.exec_properties == {"fail_on_anomalies": False}
    assert set(validator.inputs) == {"statistics", "schema"}


def test_parameters_and_baseline() -> None:
    stats, schema = _importers()
    baseline = Importer(
        source_uri="/data/old",
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("baseline")
    validator = ExampleValidator(
        statistics=stats.outputs["result"],
        schema=schema.outputs["result"],
        exclude_splits=("eval",),
        baseline_statistics=baseline.outputs["result"],
        fail_on_anomalies=True,
    )
    assert validator.exec_properties == {"exclude_splits": ["eval"], "fail_on_anomalies": True}
    pipeline = Pipeline("ev", "/tmp/ev", [stats, schema, baseline, validator])
    document = ir_mod.compile(pipeline)
    [node] = [n for n in document["nodes"] if n["id"] == "ExampleValidator"]
    assert node["executor"] == "headrace_examplevalidator.executor:Executor"
    assert node["parameters"] == {"exclude_splits": ["eval"], "fail_on_anomalies": True}
    assert node["inputs"]["baseline_statistics"]["optional"] is True
    assert node["provider"]["distribution"] == "headrace-examplevalidator"
    assert node["provider"]["version"] == __version__


def test_serving_statistics_and_split() -> None:
    stats, schema = _importers()
    serving = Importer(
        source_uri="/data/serving",
        artifact_type=ExampleStatistics,
        properties={"split_names": '["serving"]', "span": 0},
    ).with_id("serving")
    validator = ExampleValidator(
        stats.outputs["result"],
        schema.outputs["result"],
        serving_statistics=serving.outputs["result"],
        serving_split_name="serving",
    )
    assert validator.exec_properties == {
        "fail_on_anomalies": False,
        "serving_split_name": "serving",
    }
    document = ir_mod.compile(Pipeline("ev", "/tmp/ev", [stats, schema, serving, validator]))
    [node] = [n for n in document["nodes"] if n["id"] == "ExampleValidator"]
    assert node["inputs"]["serving_statistics"] == {
        "type": "ExampleStatistics",
        "producer": "serving",
        "output": "result",
        "optional": True,
    }
    assert node["parameters"] == {"fail_on_anomalies": False, "serving_split_name": "serving"}
    # The split may be left unset: the serving statistics' only split is used at run time.
    alone = ExampleValidator(
        stats.outputs["result"],
        schema.outputs["result"],
        serving_statistics=serving.outputs["result"],
    )
    assert alone.exec_properties == {"fail_on_anomalies": False}
    assert set(alone.inputs) == {"statistics", "schema", "serving_statistics"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"serving_split_name": "serving"},
            "serving_split_name 'serving' is set but input 'serving_statistics' is not given",
        ),
        ({"serving_split_name": ""}, "serving_split_name must be a split name, got ''"),
        ({"serving_split_name": ["a"]}, r"serving_split_name must be a split name, got \['a'\]"),
        ({"exclude_splits": "eval"}, "exclude_splits must be a list of split names"),
        ({"exclude_splits": ["eval", 3]}, "exclude_splits must be a list of split names"),
        ({"fail_on_anomalies": "yes"}, "parameter 'fail_on_anomalies' expects bool"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    stats, schema = _importers()
    with pytest.raises(InvalidComponentArgumentError, match=message):
        ExampleValidator(stats.outputs["result"], schema.outputs["result"], **kwargs)  # type: ignore[arg-type]


def test_channels_of_the_wrong_type_are_refused() -> None:
    stats, schema = _importers()
    with pytest.raises(InvalidComponentArgumentError, match="input 'schema' expects Schema"):
        ExampleValidator(stats.outputs["result"], stats.outputs["result"])
    for key in ("baseline_statistics", "serving_statistics"):
        with pytest.raises(
            InvalidComponentArgumentError, match=f"input '{key}' expects ExampleStatistics"
        ):
            ExampleValidator(
                stats.outputs["result"], schema.outputs["result"], **{key: schema.outputs["result"]}
            )


def test_distribution_conforms() -> None:
    # Also checks, in a fresh interpreter, that loading the plugin and importing the component
    # imports neither TensorFlow nor Beam.
    assert check_distribution("headrace-examplevalidator") == ["ExampleValidator"]


def test_a_pipeline_without_serving_statistics_keeps_its_ir_and_cache_key() -> None:
    # Pinned from the release before serving_statistics existed: a pipeline that does not use
    # it must compile to the same node and hit the cache it filled then. The executor's source
    # hash is left out: any edit to the executor changes it, by design.
    from headrace_core import cache

    stats, schema = _importers()
    validator = ExampleValidator(stats.outputs["result"], schema.outputs["result"])
    document = ir_mod.compile(Pipeline("ev", "/tmp/ev", [stats, schema, validator]))
    [node] = [n for n in document["nodes"] if n["id"] == "ExampleValidator"]
    assert node["parameters"] == {"fail_on_anomalies": False}
    assert node["inputs"] == {
        "schema": {"type": "Schema", "producer": "schema", "output": "result", "optional": False},
        "statistics": {
            "type": "ExampleStatistics",
            "producer": "stats",
            "output": "result",
            "optional": False,
        },
    }
    assert node["outputs"] == {
        "anomalies": {"type": "ExampleAnomalies", "optional": False, "allow_empty": False}
    }
    assert node["upstream"] == ["schema", "stats"]
    parts = cache.cache_key_parts("ev", node, {"statistics": [(1, "f1")], "schema": [(2, "f2")]})
    parts["executor"] = {k: v for k, v in parts["executor"].items() if k != "source"}
    assert cache.canonical(parts) == (
        '{"executor":{"ref":"headrace_examplevalidator.executor:Executor"},"inputs":{"schema":'
        '[[2,"f2"]],"statistics":[[1,"f1"]]},"module_files":{},"node":"ExampleValidator",'
        '"parameters":{"fail_on_anomalies":false},"pipeline":"ev","provider":{"distribution":'
        '"headrace-examplevalidator","version":"' + __version__ + '"},"type":'
        '"headrace_examplevalidator.component.ExampleValidator"}'
    )
