"""``headrace tfx run PIPELINE_FILE [ARGS...]`` (also ``python -m headrace_tfx run ...``): a
TFX pipeline file run as it is, ``import tfx`` answered by headrace-tfx.

The file runs as ``__main__`` with ``ARGS`` as its command line (absl flags included), the way
``python PIPELINE_FILE ARGS`` runs it with TFX installed. Keras 2 is selected before anything
imports TensorFlow (``TF_USE_LEGACY_KERAS=1``, as TFX 1.16's Keras code needs).
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Sequence

from headrace_tfx import _alias

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headrace tfx", description="Run TFX pipeline files on headrace, unchanged."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run = sub.add_parser("run", help="run a TFX pipeline file as it is")
    run.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    run.add_argument("args", nargs=argparse.REMAINDER, help="the file's own arguments")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = os.path.abspath(args.pipeline_file)
    if not os.path.isfile(path):
        print(f"headrace tfx: error: {args.pipeline_file}: no such file", file=sys.stderr)
        return 2
    real = _alias.real_tfx_origin()
    if real is not None:
        print(
            f"headrace tfx: error: the real TFX is installed here ({real}), and its protobuf "
            "messages cannot share a process with headrace-tfx's; run in an environment "
            "without tfx, or import headrace_tfx in the file (from headrace_tfx import v1 as "
            "tfx) and use headrace run",
            file=sys.stderr,
        )
        return 2
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    _alias.activate()

    # As `python FILE ARGS`: the file's folder first on sys.path, its arguments in sys.argv.
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path, *args.args]
    from headrace_core.orchestration.local import PipelineRunError

    try:
        runpy.run_path(path, run_name="__main__")
    except PipelineRunError as e:
        # The run has printed each failure and where its output went.
        print(f"headrace tfx: error: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:  # absl.app.run() ends with sys.exit()
        code = e.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0
