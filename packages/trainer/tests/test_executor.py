"""The executor on the real penguin data: FnArgs, training, serving without skew, failures.

The penguin model is trained once for the module (direct ``Executor().Do``); the probe module
stands in for run_fns whose training does not matter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from trainer_testing import FEATURES, FIXTURES, LABEL, PenguinData, penguin_inputs, run_trainer

from headrace_core import HyperParameters, Model
from headrace_trainer import FnArgs, ModelNotExportedError, TrainerError, UserModuleError
from headrace_trainer.executor import disable_autograph_for_tf_keras

PENGUIN_MODULE = FIXTURES / "penguin_module.py"
PROBE_MODULE = FIXTURES / "probe_module.py"


@pytest.fixture(scope="module")
def trained(penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory) -> Model:
    model, _ = run_trainer(
        tmp_path_factory.mktemp("trained"),
        penguin_inputs(penguin),
        module_file=str(PENGUIN_MODULE),
        train_args={"num_steps": 100},
        eval_args={"num_steps": 5},
    )
    return model


def _read_records(pattern: Path) -> list[bytes]:
    import tensorflow as tf

    files = sorted(str(p) for p in pattern.parent.glob(pattern.name))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [record.numpy() for record in dataset]


def test_serving_signature_has_no_train_serve_skew(penguin: PenguinData, trained: Model) -> None:
    """Raw serialized examples through the exported signature give the predictions the Keras
    model gives on the transformed examples it was trained on."""
    import tensorflow as tf
    import tensorflow_transform as tft

    serving_dir = Path(trained.uri) / "Format-Serving"
    assert (serving_dir / "saved_model.pb").is_file()
    output = tft.TFTransformOutput(str(penguin.transform_graph))

    raw = _read_records(penguin.raw_examples / "Split-eval" / "*.gz")
    transformed = _read_records(penguin.transformed_examples / "Split-eval" / "*.gz")
    assert len(raw) == len(transformed) == 112
    raw_parsed = tf.io.parse_example(raw, output.raw_feature_spec())
    xf_parsed = tf.io.parse_example(transformed, output.transformed_feature_spec())

    # Beam wrote the transformed examples in its own order. z-scores are increasing in the
    # raw values, so sorting both sides by the four features lines the rows up.
    def order(parsed: dict[str, Any]) -> np.ndarray:
        keys = [parsed[name].numpy().ravel() for name in reversed(FEATURES)]
        return np.lexsort(keys)

    raw_order, xf_order = order(raw_parsed), order(xf_parsed)
    labels = raw_parsed[LABEL].numpy().ravel()[raw_order]
    np.testing.assert_array_equal(labels, xf_parsed[LABEL].numpy().ravel()[xf_order])

    serving = tf.saved_model.load(str(serving_dir)).signatures["serving_default"]
    [served] = serving(examples=tf.constant(raw)).values()
    keras_model = tf.keras.models.load_model(str(serving_dir))
    predicted = keras_model.predict({name: xf_parsed[name] for name in FEATURES}, verbose=0)

    served = served.numpy()[raw_order]
    predicted = predicted[xf_order]
    assert served.shape == predicted.shape == (112, 3)
    np.testing.assert_allclose(served, predicted, rtol=1e-5, atol=1e-5)
    # And the model learned something: eval accuracy as the reference run reports (~0.98).
    assert float(np.mean(np.argmax(served, axis=1) == labels)) > 0.9


def test_fn_args_as_tfx_builds_them(penguin: PenguinData, tmp_path: Path) -> None:
    hp = HyperParameters(str(tmp_path / "hp"))
    os.makedirs(hp.uri)
    Path(hp.uri, "best_hyperparameters.txt").write_text('{"values": {"learning_rate": 0.1}}')
    base = Model(str(tmp_path / "base"))
    os.makedirs(os.path.join(base.uri, "Format-Serving"))
    examples = penguin.examples_artifact(transformed=False)
    model, model_run = run_trainer(
        tmp_path / "out",
        {
            "examples": [examples],
            "schema": [penguin.schema_artifact()],
            "base_model": [base],
            "hyperparameters": [hp],
        },
        run_fn="probe_module.run_fn",
        # TFX's executor receives protobuf parameters as JSON strings: both forms work.
        train_args='{"num_steps": 3}',
        eval_args={"splits": ["eval"]},
        custom_config={"export": "saved_model", "note": "hi"},
    )
    got = json.loads(Path(model_run.uri, "fn_args.json").read_text())
    schema_file = str(penguin.schema / "schema.pbtxt")
    assert got == {
        "working_dir": None,
        "train_files": [f"{examples.uri}/Split-train/*"],
        "eval_files": [f"{examples.uri}/Split-eval/*"],
        "train_steps": 3,
        "eval_steps": None,
        "schema_path": schema_file,
        "schema_file": schema_file,
        "transform_graph_path": None,
        "transform_output": None,
        "serving_model_dir": f"{model.uri}/Format-Serving",
        "eval_model_dir": f"{model.uri}/Format-TFMA",
        "model_run_dir": model_run.uri,
        "base_model": f"{base.uri}/Format-Serving",
        "hyperparameters": {"values": {"learning_rate": 0.1}},
        "custom_config": {"export": "saved_model", "note": "hi"},
        # Without a transform graph the accessor's default schema is the raw one.
        "batch_features": sorted(FEATURES),
        "batch_labels": [0, 0, 0, 0, 0, 0, 0],
        "eval_rows": 112,
    }
    assert FnArgs.__dataclass_fields__.keys() == {
        k for k in got if not k.startswith(("batch_", "eval_rows"))
    } | {"data_accessor"}


def test_default_schema_is_the_transformed_one(penguin: PenguinData, tmp_path: Path) -> None:
    _, model_run = run_trainer(
        tmp_path,
        penguin_inputs(penguin),
        module_file=str(PROBE_MODULE),
    )
    got = json.loads(Path(model_run.uri, "fn_args.json").read_text())
    assert got["transform_output"] == str(penguin.transform_graph)
    assert got["train_steps"] is None
    assert got["custom_config"] is None
    # Transformed (z-scored) features, read with transformed_metadata/schema.pbtxt.
    assert got["batch_features"] == sorted(FEATURES)
    assert got["eval_rows"] == 112


@pytest.mark.parametrize("export", ["nothing", "weights_only"])
def test_run_fn_that_exports_no_model_fails_clearly(
    penguin: PenguinData, tmp_path: Path, export: str
) -> None:
    with pytest.raises(ModelNotExportedError) as failure:
        run_trainer(
            tmp_path,
            penguin_inputs(penguin),
            module_file=str(PROBE_MODULE),
            custom_config={"export": export},
        )
    message = str(failure.value)
    serving = tmp_path / "model" / "Format-Serving"
    assert message.startswith(
        f"Trainer: run_fn in module_file {PROBE_MODULE} returned without exporting a model: "
        f"no saved_model.pb in fn_args.serving_model_dir ({serving}"
    )
    if export == "weights_only":
        assert "which holds weights.h5" in message
    else:
        assert "which does not exist" in message


def _module(tmp_path: Path, source: str, name: str = "user_module.py") -> str:
    path = tmp_path / "modules" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    return str(path)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (None, "Trainer: module_file {path} does not exist (it should define run_fn(fn_args))"),
        (
            "import headrace_no_such_dependency\n",
            "Trainer: module_file {path} failed to import, so run_fn cannot be loaded: "
            "ModuleNotFoundError: No module named 'headrace_no_such_dependency'",
        ),
        (
            "def run_fn(fn_args)\n    pass\n",
            "Trainer: module_file {path} failed to import, so run_fn cannot be loaded: "
            "SyntaxError: expected ':' (user_module.py, line 1)",
        ),
        (
            "def train(fn_args):\n    pass\n\n\ndef _helper():\n    pass\n",
            "Trainer: module_file {path} defines no function run_fn(fn_args); it defines train",
        ),
        (
            "run_fn = 3\n",
            "Trainer: run_fn in module_file {path} is a int, not a function",
        ),
    ],
    ids=["missing-file", "import-error", "syntax-error", "no-run_fn", "not-callable"],
)
def test_bad_module_file_names_file_and_function(
    penguin: PenguinData, tmp_path: Path, source: str | None, expected: str
) -> None:
    path = _module(tmp_path, source or "")
    if source is None:
        os.remove(path)
    with pytest.raises(UserModuleError) as failure:
        run_trainer(tmp_path, penguin_inputs(penguin), module_file=path)
    assert str(failure.value) == expected.format(path=path)
    if source is not None and "import" in expected:
        assert failure.value.__cause__ is not None  # the traceback the launcher records


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (
            "headrace_no_such_package.module.run_fn",
            "Trainer: run_fn 'headrace_no_such_package.module.run_fn': module "
            "'headrace_no_such_package.module' is not importable (no module named "
            "'headrace_no_such_package'; is it installed, or on sys.path?)",
        ),
        (
            "probe_module.train_fn",
            "Trainer: module 'probe_module' ({probe}) defines no function train_fn(fn_args); "
            "it defines run_fn",
        ),
    ],
    ids=["not-importable", "no-function"],
)
def test_bad_run_fn_reference(
    penguin: PenguinData, tmp_path: Path, ref: str, expected: str
) -> None:
    with pytest.raises(UserModuleError) as failure:
        run_trainer(tmp_path, penguin_inputs(penguin), run_fn=ref)
    assert str(failure.value) == expected.format(probe=PROBE_MODULE)


def test_missing_split_is_named(penguin: PenguinData, tmp_path: Path) -> None:
    with pytest.raises(TrainerError) as failure:
        run_trainer(
            tmp_path,
            penguin_inputs(penguin),
            module_file=str(PROBE_MODULE),
            eval_args={"splits": ["test"]},
        )
    assert str(failure.value) == (
        f"Trainer: examples {penguin.transformed_examples} have no split 'test' for eval_args "
        "(splits: train, eval); set eval_args.splits"
    )


def test_edited_module_file_runs_as_edited(penguin: PenguinData, tmp_path: Path) -> None:
    """One process, two loads of an edited module file (and of a helper beside it): the second
    run sees both edits, as the cache key (which covers them) promises."""
    from headrace_trainer.udf import load_from_file

    helper = tmp_path / "mod" / "probe_helper.py"
    helper.parent.mkdir()
    module = tmp_path / "mod" / "edited.py"
    source = "from probe_helper import VALUE\n\ndef run_fn(fn_args):\n    return ({}, VALUE)\n"
    helper.write_text("VALUE = 'old helper'\n")
    module.write_text(source.format("'old module'"))
    assert load_from_file(str(module))(None) == ("old module", "old helper")
    helper.write_text("VALUE = 'new helper'\n")
    module.write_text(source.format("'new module'"))
    assert load_from_file(str(module))(None) == ("new module", "new helper")


def test_autograph_leaves_tf_keras_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """TF 2.16 would transpile tf_keras's train_step on every first trace; the rule stops it."""
    import tensorflow as tf
    from tensorflow.python.autograph.core import config
    from tensorflow.python.autograph.impl import conversion

    without = tuple(r for r in config.CONVERSION_RULES if not r.matches("tf_keras"))
    monkeypatch.setattr(config, "CONVERSION_RULES", without)
    train_step = tf.keras.Model.train_step
    assert train_step.__module__.startswith("tf_keras.")
    assert not conversion.is_allowlisted(train_step)
    assert disable_autograph_for_tf_keras() is True
    assert conversion.is_allowlisted(train_step)
    assert disable_autograph_for_tf_keras() is False  # idempotent
    assert len(config.CONVERSION_RULES) == len(without) + 1
