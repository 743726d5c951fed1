"""Helpers for the Pusher tests: real SavedModels made with TensorFlow, and the executor run as
the launcher runs it.

The model is a tf.Module with one variable, ``y = x * scale``, exported with a
``serving_default`` signature, so a pushed copy can be loaded and asked for a prediction.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headrace_core import Artifact, InfraBlessing, Model, ModelBlessing, PushedModel

__all__ = [
    "blessing",
    "export_scale_model",
    "model_from",
    "predict",
    "run_pusher",
]


def export_scale_model(path: str | os.PathLike[str], scale: float) -> str:
    """Export ``y = x * scale`` as a SavedModel at ``path``; returns ``path``."""
    import tensorflow as tf

    class Scale(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = tf.Variable(scale, dtype=tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x: Any) -> dict[str, Any]:
            return {"y": x * self.scale}

    module = Scale()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return str(path)


def predict(saved_model_dir: str | os.PathLike[str], values: Sequence[float]) -> list[float]:
    """Load a SavedModel with TensorFlow and call its serving signature."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model_dir))
    out = loaded.signatures["serving_default"](x=tf.constant(list(values), dtype=tf.float32))
    return [round(float(v), 6) for v in out["y"].numpy()]


def model_from(saved_model: str | os.PathLike[str], uri: Path) -> Model:
    """A Model artifact in the Trainer's layout, holding a copy of ``saved_model``."""
    shutil.copytree(saved_model, uri / "Format-Serving")
    return Model(str(uri))


def blessing(uri: Path, blessed: int | None, infra: bool = False) -> Artifact:
    """A ModelBlessing (or InfraBlessing) as the Evaluator writes one: a BLESSED or
    NOT_BLESSED file and the ``blessed`` custom property."""
    uri.mkdir(parents=True, exist_ok=True)
    (uri / ("BLESSED" if blessed == 1 else "NOT_BLESSED")).write_text("")
    cls = InfraBlessing if infra else ModelBlessing
    custom = {} if blessed is None else {"blessed": blessed}
    return cls(str(uri), custom_properties=custom)


def run_pusher(
    out: Path,
    model: Model | None,
    push_destination: Any,
    model_blessing: Artifact | None = None,
    infra_blessing: Artifact | None = None,
) -> PushedModel:
    """Run the executor directly, as the launcher would, and return the output artifact."""
    from headrace_pusher.executor import Executor

    out.mkdir(parents=True, exist_ok=True)
    pushed = PushedModel(str(out))
    inputs: dict[str, list[Artifact]] = {} if model is None else {"model": [model]}
    if model_blessing is not None:
        inputs["model_blessing"] = [model_blessing]
    if infra_blessing is not None:
        inputs["infra_blessing"] = [infra_blessing]
    Executor().Do(inputs, {"pushed_model": [pushed]}, {"push_destination": push_destination})
    return pushed
