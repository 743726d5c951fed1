"""Function components of the hello pipeline: small, fast, and enough to show what headrace
records (caching, a condition, lineage) without TensorFlow."""

from __future__ import annotations

import json
import os
import random
from typing import TypedDict

from headrace_core import (
    Examples,
    InputArtifact,
    Model,
    ModelBlessing,
    OutputArtifact,
    Parameter,
    PushedModel,
    component,
)
from headrace_core.artifacts import encode_split_names, split_uri


@component
def MakeNumbers(
    examples: OutputArtifact[Examples], count: Parameter[int] = 60, seed: Parameter[int] = 7
) -> None:
    """Noisy points on y = 3x + 1, split 2:1 into train and eval."""
    rng = random.Random(seed)
    splits: dict[str, list[list[float]]] = {"train": [], "eval": []}
    for i in range(count):
        x = rng.uniform(0, 10)
        splits["train" if i % 3 else "eval"].append([x, 3 * x + 1 + rng.gauss(0, 0.5)])
    for name, rows in splits.items():
        os.makedirs(split_uri(examples, name), exist_ok=True)
        with open(os.path.join(split_uri(examples, name), "rows.json"), "w") as f:
            json.dump(rows, f)
    examples.split_names = encode_split_names(list(splits))
    examples.span = 0


class Stats(TypedDict):
    mean_y: float
    rows: int


@component
def Describe(examples: InputArtifact[Examples]) -> Stats:
    with open(os.path.join(split_uri(examples, "train"), "rows.json")) as f:
        rows = json.load(f)
    return {"mean_y": sum(r[1] for r in rows) / len(rows), "rows": len(rows)}


@component
def Train(
    examples: InputArtifact[Examples],
    model: OutputArtifact[Model],
    epochs: Parameter[int] = 200,
    learning_rate: Parameter[float] = 0.01,
) -> float:
    """Least squares by gradient descent; returns the final training loss."""
    with open(os.path.join(split_uri(examples, "train"), "rows.json")) as f:
        rows = json.load(f)
    w = b = 0.0
    loss = 0.0
    for _ in range(epochs):
        gw = gb = loss = 0.0
        for x, y in rows:
            err = w * x + b - y
            gw += 2 * err * x / len(rows)
            gb += 2 * err / len(rows)
            loss += err * err / len(rows)
        w -= learning_rate * gw
        b -= learning_rate * gb
    with open(os.path.join(model.uri, "model.json"), "w") as f:
        json.dump({"w": w, "b": b}, f)
    return loss


@component
def Evaluate(
    examples: InputArtifact[Examples],
    model: InputArtifact[Model],
    blessing: OutputArtifact[ModelBlessing],
    max_error: Parameter[float] = 1.0,
) -> float:
    """Mean absolute error on the eval split; blesses the model when it is below max_error."""
    with open(os.path.join(model.uri, "model.json")) as f:
        params = json.load(f)
    with open(os.path.join(split_uri(examples, "eval"), "rows.json")) as f:
        rows = json.load(f)
    mae = sum(abs(params["w"] * x + params["b"] - y) for x, y in rows) / len(rows)
    blessed = mae < max_error
    with open(os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w"):
        pass
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_int_custom_property("current_model_id", model.id or 0)
    return mae


@component
def Push(
    model: InputArtifact[Model],
    pushed_model: OutputArtifact[PushedModel],
    base_directory: Parameter[str],
) -> None:
    """Copies the model to <base_directory>/<version>/, as a serving system expects."""
    os.makedirs(base_directory, exist_ok=True)
    pushed = [int(d) for d in os.listdir(base_directory) if d.isdigit()]
    version = str(max(pushed, default=0) + 1)
    target = os.path.join(base_directory, version)
    os.makedirs(target)
    with (
        open(os.path.join(model.uri, "model.json")) as src,
        open(os.path.join(target, "model.json"), "w") as dst,
    ):
        dst.write(src.read())
    with open(os.path.join(pushed_model.uri, "push.json"), "w") as f:
        json.dump({"pushed_destination": target, "pushed_version": version}, f)
    pushed_model.set_int_custom_property("pushed", 1)
    pushed_model.set_string_custom_property("pushed_destination", target)
    pushed_model.set_string_custom_property("pushed_version", version)
