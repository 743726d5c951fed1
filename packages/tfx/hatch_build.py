"""Build hook: compiles ``src/headrace_tfx/proto/*.proto`` into ``*_pb2.py`` (and ``.pyi``)
with grpcio-tools' protoc, for wheels and editable installs alike. The generated modules are
not committed; they are rebuilt from the ``.proto`` files on every build."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ProtoBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from grpc_tools import protoc

        src = Path(self.root) / "src"
        protos = sorted((src / "headrace_tfx" / "proto").glob("*.proto"))
        if not protos:
            raise RuntimeError(f"headrace-tfx: no .proto files under {src}/headrace_tfx/proto")
        include = importlib.resources.files("grpc_tools") / "_proto"
        args = ["protoc", f"-I{src}", f"-I{include}", f"--python_out={src}", f"--pyi_out={src}"]
        status = protoc.main([*args, *(str(p) for p in protos)])
        if status != 0:
            raise RuntimeError(
                f"headrace-tfx: protoc failed ({status}) on {src}/headrace_tfx/proto"
            )
        # Generated files are ignored by git, so name them for the wheel.
        build_data["artifacts"].extend(
            f"src/headrace_tfx/proto/{p.stem}_pb2.{ext}" for p in protos for ext in ("py", "pyi")
        )
