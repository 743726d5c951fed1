"""The executor on the real data: penguin scaling, the Chicago taxi preprocessing, the
analyzer cache, the parameters, and the errors a user sees."""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hrtf_util import (
    MODULES,
    PENGUIN,
    PENGUIN_FEATURES,
    Data,
    Run,
    RunTransform,
    example_values,
    read_examples,
    write_examples,
)

from headrace_core import Examples, Schema
from headrace_transform import UserModuleError

TAXI_OUTPUTS = {
    *(f"{k}_xf" for k in ("trip_miles", "fare", "trip_seconds")),
    "payment_type_xf",
    "company_xf",
    *(f"{k}_xf" for k in ("pickup_latitude", "pickup_longitude")),
    *(f"{k}_xf" for k in ("dropoff_latitude", "dropoff_longitude")),
    *(
        f"{k}_xf"
        for k in (
            "trip_start_hour",
            "trip_start_day",
            "trip_start_month",
            "pickup_census_tract",
            "dropoff_census_tract",
            "pickup_community_area",
            "dropoff_community_area",
        )
    ),
    "tips_xf",
}


def _columns(examples: list[Any]) -> dict[str, np.ndarray]:
    """Single-valued tf.Examples as one array per feature."""
    rows = [example_values(e) for e in examples]
    names = sorted({n for row in rows for n in row})
    for row in rows:
        assert all(len(row[n]) == 1 for n in names), row
    return {n: np.array([row[n][0] for row in rows]) for n in names}


def _apply_graph(tft_output: Any, raw_examples: list[Any]) -> dict[str, np.ndarray]:
    """TFTransformOutput.transform_raw_features on serialized raw examples."""
    import tensorflow as tf

    serialized = tf.constant([e.SerializeToString() for e in raw_examples])
    parsed = tf.io.parse_example(serialized, tft_output.raw_feature_spec())
    transformed = tft_output.transform_raw_features(parsed)
    return {k: np.reshape(v.numpy(), (len(raw_examples),)) for k, v in transformed.items()}


def _assert_same_columns(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert set(actual) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(actual[name], values, rtol=1e-6, err_msg=name)


def _tree(uri: str) -> dict[str, bytes]:
    found = {}
    for directory, _, files in os.walk(uri):
        for name in files:
            full = os.path.join(directory, name)
            with open(full, "rb") as f:
                found[os.path.relpath(full, uri)] = f.read()
    return found


# Penguin -----------------------------------------------------------------------------------


def test_penguin_transform_graph_loads(tft: Any, penguin_run: Run) -> None:
    uri = penguin_run.graph.uri
    assert sorted(os.listdir(uri)) == ["metadata", "transform_fn", "transformed_metadata"]
    output = tft.TFTransformOutput(uri)
    assert set(output.transformed_feature_spec()) == {
        *(f"{k}_xf" for k in PENGUIN_FEATURES),
        "species",
    }
    assert set(output.raw_feature_spec()) == {*PENGUIN_FEATURES, "species"}


def test_penguin_examples_are_materialized_per_split(penguin: Data, penguin_run: Run) -> None:
    examples = penguin_run.examples
    assert examples.split_names == '["train", "eval"]'
    assert examples.span == 0
    for split in ("train", "eval"):
        files = os.listdir(Path(examples.uri) / f"Split-{split}")
        assert files == ["transformed_examples-00000-of-00001.gz"], files
    rows = {
        split: len(read_examples(Path(examples.uri) / f"Split-{split}"))
        for split in ("train", "eval")
    }
    assert rows == {"train": 222, "eval": 112}


def test_penguin_values_match_the_graph_and_the_analyzers(
    tft: Any, penguin: Data, penguin_run: Run
) -> None:
    output = tft.TFTransformOutput(penguin_run.graph.uri)
    for split in ("train", "eval"):
        raw = read_examples(Path(penguin.examples.uri) / f"Split-{split}")
        materialized = _columns(read_examples(Path(penguin_run.examples.uri) / f"Split-{split}"))
        # The in-memory DirectRunner keeps the order of a single input file.
        _assert_same_columns(materialized, _apply_graph(output, raw))
        if split == "train":
            raw_columns = _columns(raw)
            for i, key in enumerate(PENGUIN_FEATURES):
                values = materialized[f"{key}_xf"]
                if i % 2 == 0:  # z-score on the analyzed split: mean 0, std 1
                    assert abs(values.mean()) < 1e-5 and abs(values.std() - 1) < 1e-4, key
                else:  # 0-1 scaling: the analyzed split spans [0, 1] exactly
                    assert values.min() == 0.0 and values.max() == pytest.approx(1.0), key
                    spread = raw_columns[key].max() - raw_columns[key].min()
                    expected = (raw_columns[key] - raw_columns[key].min()) / spread
                    np.testing.assert_allclose(values, expected, atol=1e-5)
            np.testing.assert_array_equal(materialized["species"], raw_columns["species"])


def test_keras_2_without_the_user_setting_anything(penguin_run: Run) -> None:
    import tensorflow as tf

    assert tf.keras.__name__.startswith("tf_keras"), tf.keras


# Chicago taxi ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxi_run(run_transform: RunTransform, taxi: Data) -> Run:
    return run_transform(taxi, module_file=str(MODULES / "taxi_preprocessing.py"))


def test_taxi_preprocessing(tft: Any, taxi: Data, taxi_run: Run) -> None:
    output = tft.TFTransformOutput(taxi_run.graph.uri)
    assert set(output.transformed_feature_spec()) == TAXI_OUTPUTS
    assets = os.listdir(Path(taxi_run.graph.uri) / "transform_fn" / "assets")
    assert len(assets) == 2, assets  # the payment_type and company vocabularies

    raw = read_examples(Path(taxi.examples.uri) / "Split-eval")
    transformed = _columns(read_examples(Path(taxi_run.examples.uri) / "Split-eval"))
    assert len(transformed["tips_xf"]) == len(raw) == 5001
    _assert_same_columns(transformed, _apply_graph(output, raw))

    rows = [example_values(e) for e in raw]
    # In float32, as TensorFlow computes it: a tip of exactly 20% must not flip.
    tips = np.array([r["tips"][0] for r in rows], dtype=np.float32)
    fare = np.array([r["fare"][0] for r in rows], dtype=np.float32)
    expected = (tips > np.float32(0.2) * fare).astype(np.int64)
    np.testing.assert_array_equal(transformed["tips_xf"], expected)
    assert 0 < transformed["tips_xf"].mean() < 1

    for key in ("pickup_latitude", "pickup_longitude", "dropoff_latitude", "dropoff_longitude"):
        assert set(np.unique(transformed[f"{key}_xf"])) <= set(range(10)), key
    # Missing values are filled in before bucketizing (0 falls in the lowest bucket) and in
    # categorical features (0).
    missing = np.array(["dropoff_latitude" not in r for r in rows])
    assert missing.any()
    assert (transformed["dropoff_latitude_xf"][missing] == 0).all()
    no_tract = np.array(["pickup_census_tract" not in r for r in rows])
    assert (transformed["pickup_census_tract_xf"][no_tract] == 0).all()

    vocabulary = output.vocabulary_by_name(
        next(a for a in assets if "1" not in a.rsplit("_", 1)[-1])
    )
    assert b"Cash" in vocabulary or b"Chicago Elite Cab Corp." in vocabulary
    for key, oov in (("payment_type_xf", 10), ("company_xf", 10)):
        values = transformed[key]
        assert values.min() >= 0 and values.max() < 1000 + oov, key
    for key in ("trip_miles_xf", "fare_xf", "trip_seconds_xf"):
        assert np.isfinite(transformed[key]).all(), key


# Analyzer cache ----------------------------------------------------------------------------


def test_first_run_writes_the_analyzer_cache(penguin_run: Run) -> None:
    stats, cache = penguin_run.stats, penguin_run.cache
    assert stats.cache_entries_read == 0
    assert stats.cache_entries_written == 4  # one per analyzer: 2 z-scores, 2 min/max
    assert len(stats.datasets_analyzed) == 1 and stats.datasets_from_cache == []
    [dataset] = os.listdir(cache.uri)
    assert dataset.startswith("Split-train-")
    assert "MANIFEST" in os.listdir(Path(cache.uri) / dataset)
    assert cache.custom_properties == {
        "cache_entries_read": 0,
        "cache_entries_written": 4,
        "datasets_analyzed": 1,
        "datasets_from_cache": 0,
    }


def test_second_run_with_the_cache_recomputes_no_analyzer(
    run_transform: RunTransform, penguin: Data, penguin_run: Run
) -> None:
    second = run_transform(penguin, analyzer_cache=penguin_run.cache)
    # Every analyzer came from the cache: nothing encoded, and the train split was not even
    # read for analysis (it is read once, to be transformed).
    assert second.stats.cache_entries_written == 0
    assert second.stats.cache_entries_read == penguin_run.stats.cache_entries_written
    assert second.stats.datasets_analyzed == []
    assert second.stats.datasets_from_cache == penguin_run.stats.datasets_analyzed
    assert second.cache.custom_properties["cache_entries_written"] == 0
    assert second.cache.custom_properties["datasets_from_cache"] == 1
    # The updated cache is the input cache, byte for byte.
    assert _tree(second.cache.uri) == _tree(penguin_run.cache.uri)
    # And the graph it built gives the same values.
    for split in ("train", "eval"):
        first_rows = read_examples(Path(penguin_run.examples.uri) / f"Split-{split}")
        second_rows = read_examples(Path(second.examples.uri) / f"Split-{split}")
        _assert_same_columns(_columns(second_rows), _columns(first_rows))


def test_changed_data_misses_the_cache(
    run_transform: RunTransform, penguin: Data, penguin_run: Run, tmp_path: Path
) -> None:
    changed = write_examples(
        PENGUIN, penguin.schema_file, tmp_path / "examples", rows=200, fingerprint="penguin-2"
    )
    data = Data(changed, penguin.schema, penguin.schema_file)
    run = run_transform(data, analyzer_cache=penguin_run.cache, materialize=False)
    assert run.stats.cache_entries_read == 0
    assert run.stats.cache_entries_written == 4
    assert len(run.stats.datasets_analyzed) == 1
    # Only this run's dataset is kept: the cache does not grow with every span seen.
    assert os.listdir(run.cache.uri) == run.stats.datasets_analyzed
    assert os.listdir(run.cache.uri) != os.listdir(penguin_run.cache.uri)


def test_rolling_window_recomputes_only_the_new_span(
    run_transform: RunTransform, penguin: Data, tmp_path: Path
) -> None:
    """TFX's use of the cache: spans [1, 2], then [2, 3]; span 2 comes from the cache."""

    def span(n: int) -> Examples:
        return write_examples(
            PENGUIN,
            penguin.schema_file,
            tmp_path / f"span{n}",
            rows=100 + 50 * n,
            span=n,
            fingerprint=f"span-{n}",
        )

    one, two, three = span(1), span(2), span(3)
    first = run_transform(penguin, spans=[one, two], materialize=False)
    assert len(first.stats.datasets_analyzed) == 2
    assert first.stats.cache_entries_written == 8  # 4 analyzers x 2 spans
    second = run_transform(
        penguin, spans=[two, three], analyzer_cache=first.cache, materialize=False
    )
    assert second.stats.datasets_from_cache == [first.stats.datasets_analyzed[1]]
    assert len(second.stats.datasets_analyzed) == 1
    assert (second.stats.cache_entries_read, second.stats.cache_entries_written) == (4, 4)
    assert sorted(os.listdir(second.cache.uri)) == sorted(
        second.stats.datasets_from_cache + second.stats.datasets_analyzed
    )
    with pytest.raises(ValueError, match="materialize=True with 2 examples artifacts"):
        run_transform(penguin, spans=[two, three])


def test_dataset_keys_follow_content_not_path(tmp_path: Path) -> None:
    from headrace_transform.executor import _dataset_key

    def make(name: str, rows: int, fingerprint: str | None = None) -> Examples:
        return write_examples(
            PENGUIN,
            Path(__file__).parent / "fixtures" / "penguin_schema.pbtxt",
            tmp_path / name,
            rows=rows,
            fingerprint=fingerprint,
        )

    a, b, c = make("a", 30), make("b", 30), make("c", 32)
    assert _dataset_key(a, "train") == _dataset_key(b, "train")  # hashed here: same content
    assert _dataset_key(a, "train") != _dataset_key(c, "train")
    assert _dataset_key(a, "train") != _dataset_key(a, "eval")
    fingerprinted = make("d", 30, fingerprint="abc")
    assert _dataset_key(fingerprinted, "train") != _dataset_key(a, "train")
    fingerprinted.uri = str(tmp_path / "elsewhere")  # the fingerprint is enough
    assert _dataset_key(fingerprinted, "train").key.startswith("Split-train-")


# Parameters --------------------------------------------------------------------------------


def test_no_materialization_and_no_cache(
    tft: Any, run_transform: RunTransform, penguin: Data
) -> None:
    run = run_transform(penguin, materialize=False, disable_analyzer_cache=True)
    assert os.listdir(run.examples.uri) == []
    assert run.examples.split_names is None
    assert os.listdir(run.cache.uri) == []
    assert run.cache.custom_properties == {}
    assert run.stats.datasets_analyzed and run.stats.cache_entries_written == 0
    tft.TFTransformOutput(run.graph.uri).transform_features_layer()


def test_splits_config_custom_config_and_dotted_path(
    tft: Any, run_transform: RunTransform, penguin: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headrace_transform import executor

    monkeypatch.syspath_prepend(str(MODULES))
    # Small data is read whole; here the reads are projected to the columns used.
    monkeypatch.setattr(executor, "PROJECTION_MIN_BYTES", 0)
    run = run_transform(
        penguin,
        module_file=None,
        preprocessing_fn="penguin_custom_config.preprocessing_fn",
        splits_config={"analyze": ["train", "eval"], "transform": ["eval"]},
        custom_config={"features": ["body_mass_g"]},
    )
    assert run.examples.split_names == '["eval"]'
    assert os.listdir(run.examples.uri) == ["Split-eval"]
    values = _columns(read_examples(Path(run.examples.uri) / "Split-eval"))
    assert set(values) == {"body_mass_g_z", "species"}
    # Both splits were analyzed, each its own cache dataset; the eval split is read once for
    # both analysis and transformation.
    assert sorted(k.split("-")[1] for k in run.stats.datasets_analyzed) == ["eval", "train"]
    assert len(os.listdir(run.cache.uri)) == 2


# Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("does_not_exist.py", r"does_not_exist\.py does not exist.*preprocessing_fn"),
        ("bad_import.py", r"bad_import\.py failed to import, so preprocessing_fn .*ModuleNotF"),
        ("no_function.py", r"no_function\.py defines no function 'preprocessing_fn'"),
    ],
)
def test_bad_module_fails_naming_file_and_function(
    run_transform: RunTransform, penguin: Data, module: str, message: str
) -> None:
    with pytest.raises(UserModuleError, match=message):
        run_transform(penguin, module_file=str(MODULES / module))


def test_unknown_split_is_named(run_transform: RunTransform, penguin: Data) -> None:
    with pytest.raises(ValueError, match=r"splits_config\['analyze'\] names split\(s\) 'test'"):
        run_transform(penguin, splits_config={"analyze": ["test"]})


def test_examples_without_data_or_split_names(
    run_transform: RunTransform, penguin: Data, tmp_path: Path
) -> None:
    empty = Examples(str(tmp_path / "empty"))
    (tmp_path / "empty" / "Split-train").mkdir(parents=True)
    (tmp_path / "empty" / "Split-eval").mkdir()
    empty.split_names = '["train", "eval"]'
    data = Data(empty, penguin.schema, penguin.schema_file)
    with pytest.raises(FileNotFoundError, match=r"split 'train' of examples .* has no data files"):
        run_transform(data)
    empty.split_names = ""
    with pytest.raises(ValueError, match="has no split_names property"):
        run_transform(data)


def test_missing_schema_is_named(
    run_transform: RunTransform, penguin: Data, tmp_path: Path
) -> None:
    data = Data(penguin.examples, Schema(str(tmp_path)), penguin.schema_file)
    with pytest.raises(FileNotFoundError, match=r"schema artifact .* has no schema\.pbtxt"):
        run_transform(data)


def test_keras_3_in_the_process_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    from headrace_transform import executor

    keras3 = types.SimpleNamespace(keras=types.SimpleNamespace(version=lambda: "3.3.3"))
    monkeypatch.setattr(executor, "tf", keras3)
    with pytest.raises(executor.KerasVersionError) as e:
        executor._check_keras()
    message = str(e.value)
    assert "Keras 3.3.3" in message and "TF_USE_LEGACY_KERAS" in message
    assert "touched tf.keras" in message


def test_cache_files_are_readable_by_plain_tf_transform(penguin_run: Run) -> None:
    """The cache is written with a faster sink, in the layout tf.Transform's own reader (and
    TFX's) expects."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to
    from tensorflow_transform.beam import analyzer_cache

    [name] = os.listdir(penguin_run.cache.uri)
    files = sorted(os.listdir(Path(penguin_run.cache.uri) / name))
    assert files == [
        "0-00000-of-00001.gz",
        "1-00000-of-00001.gz",
        "2-00000-of-00001.gz",
        "3-00000-of-00001.gz",
        "MANIFEST",
        "METADATA-00000-of-00001",
    ]
    key = analyzer_cache.DatasetKey(name)
    with beam.Pipeline() as p:
        cache = p | analyzer_cache.ReadAnalysisCacheFromFS(penguin_run.cache.uri, [key])
        counts = [
            entry | f"Count{i}" >> beam.combiners.Count.Globally()
            for i, entry in enumerate(cache[key].cache_dict.values())
        ]
        assert len(counts) == 4
        assert_that(counts | beam.Flatten(), equal_to([1, 1, 1, 1]))


@pytest.mark.parametrize("projection", [False, True])
def test_preprocessing_fn_failing_on_the_features_is_named(
    run_transform: RunTransform, penguin: Data, monkeypatch: pytest.MonkeyPatch, projection: bool
) -> None:
    from headrace_transform import executor

    if projection:  # the failure then comes from the trace that finds the columns
        monkeypatch.setattr(executor, "PROJECTION_MIN_BYTES", 0)
    module = MODULES / "wrong_feature.py"
    with pytest.raises(ValueError) as e:
        run_transform(penguin, module_file=str(module))
    message = str(e.value)
    assert f"preprocessing_fn of module_file {module} failed on the schema's" in message
    assert "no_such_feature" in message and "body_mass_g" in message
