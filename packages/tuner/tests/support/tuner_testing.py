"""Test helpers: the penguin data as ExampleGen and SchemaGen leave it, from the real CSV.

Kept out of ``fixtures/``: that folder holds user module files, and the loader copies the
``.py`` files beside a module file.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace_core import Examples, Schema
from headrace_core.testing import require_test_data as require
from headrace_core.testing import test_data_dir
from headrace_tfdv_io.testing import write_examples

__all__ = ["FIXTURES", "SPLIT_NAMES", "PenguinData", "make_penguin_data", "read_json"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PENGUIN = test_data_dir(__file__) / "penguin"
SPLIT_NAMES = '["train", "eval"]'


@dataclass(frozen=True)
class PenguinData:
    examples: Path
    schema: Path

    def examples_artifact(self) -> Examples:
        artifact = Examples(str(self.examples), properties={"split_names": SPLIT_NAMES})
        artifact.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        return artifact

    def schema_artifact(self) -> Schema:
        return Schema(str(self.schema))


def make_penguin_data(root: Path) -> PenguinData:
    """Raw penguin examples (every third row is eval) and the curated schema, under ``root``."""
    data = PenguinData(examples=root / "examples", schema=root / "schema")
    write_examples(
        require(PENGUIN / "penguins_processed.csv"),
        data.examples,
        split_of=lambda i, splits: splits[-1] if i % 3 == 0 else splits[0],
    )
    data.schema.mkdir()
    shutil.copy(require(PENGUIN / "schema_user_provided.pbtxt"), data.schema / "schema.pbtxt")
    return data


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
