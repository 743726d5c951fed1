"""TFX's rewriting module paths (``tfx.components.trainer.rewriting``) resolve to headrace's
rewriters, under ``headrace_tfx`` and, through the ``tfx`` alias, under TFX's own names; and a
``run_fn``'s conversion written for TFX runs as it is."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("headrace_trainer")

import headrace_trainer.rewriting as ours


def test_rewriting_module_paths() -> None:
    from headrace_tfx.components.trainer.rewriting import (
        rewriter,
        rewriter_factory,
        tflite_rewriter,
    )

    assert rewriter.ModelType is ours.ModelType
    assert rewriter.ModelDescription is ours.ModelDescription
    assert rewriter.BaseRewriter is ours.BaseRewriter
    assert rewriter_factory.TFLITE_REWRITER == "TFLiteRewriter"
    assert rewriter_factory.TFJS_REWRITER == "TFJSRewriter"
    assert rewriter_factory.create_rewriter is ours.create_rewriter
    assert tflite_rewriter.TFLiteRewriter is ours.TFLiteRewriter
    assert tflite_rewriter.EXTRA_ASSETS_DIRECTORY == "assets.extra"
    assert dir(rewriter_factory) == ["TFJS_REWRITER", "TFLITE_REWRITER", "create_rewriter"]
    with pytest.raises(AttributeError, match="has no attribute 'converters'"):
        rewriter_factory.converters  # noqa: B018


RUN_FN_STYLE = """
import os, sys
from headrace_tfx import _alias
_alias.install()
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from tfx.components.trainer.rewriting import rewriter, rewriter_factory
from tfx.components.trainer.rewriting.tflite_rewriter import TFLiteRewriter
assert "tensorflow" not in sys.modules, "imports stay light until a rewrite runs"
import tensorflow as tf

class Double(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def serve(self, x):
        return {"y": 2.0 * x}

module = Double()
source, target = sys.argv[1] + "/saved_model", sys.argv[1] + "/serving"
tf.saved_model.save(module, source, signatures={"serving_default": module.serve})
tfrw = rewriter_factory.create_rewriter(rewriter_factory.TFLITE_REWRITER, name="tflite_rewriter")
assert isinstance(tfrw, TFLiteRewriter)
tfrw.perform_rewrite(
    rewriter.ModelDescription(rewriter.ModelType.SAVED_MODEL, source),
    rewriter.ModelDescription(rewriter.ModelType.TFLITE_MODEL, target),
)
runner = tf.lite.Interpreter(model_path=target + "/tflite").get_signature_runner()
print(list(runner(x=tf.constant([1.0, 4.0]).numpy())["y"]))
"""


def test_a_tfx_run_fn_conversion_runs_as_it_is(tmp_path: Path) -> None:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs TensorFlow")
    done = subprocess.run(
        [sys.executable, "-c", RUN_FN_STYLE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[2.0, 8.0]"
    assert (tmp_path / "serving" / "tflite").is_file()
