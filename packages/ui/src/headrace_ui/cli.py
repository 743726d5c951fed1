"""``headrace ui`` and ``headrace tensorboard``: their options and what they run.

Light at import (argparse only): ``headrace --help`` imports this module to list the options,
and nothing of the web stack or ml-metadata until a command runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "metadata_url",
    "run_tensorboard",
    "run_ui",
    "tensorboard_arguments",
    "tensorboard_command",
    "ui_arguments",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pipeline-root", metavar="DIR", help="read the SQLite store in this root")
    where.add_argument(
        "--metadata", metavar="URL", help="metadata store URL (or HEADRACE_METADATA)"
    )


def ui_arguments(parser: argparse.ArgumentParser) -> None:
    _store_arguments(parser)
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="(default %(default)s)")


def tensorboard_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs whose training to show")
    parser.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    _store_arguments(parser)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=6006)
    parser.add_argument(
        "--print-command", action="store_true", help="print the TensorBoard command, do not run it"
    )


def metadata_url(args: argparse.Namespace) -> str:
    """The store the command reads: ``--metadata``, ``HEADRACE_METADATA``, or SQLite in
    ``--pipeline-root``; the password, if any, is kept out of the URL (``conceal``)."""
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import ENV_METADATA, conceal, default_metadata_url

    url = args.metadata or os.environ.get(ENV_METADATA, "").strip()
    if not url and args.pipeline_root:
        url = default_metadata_url(os.path.abspath(args.pipeline_root))
    if not url:
        raise HeadraceError(
            "say which metadata store to read: --pipeline-root DIR, --metadata URL or "
            "HEADRACE_METADATA"
        )
    return conceal(url) or url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_ui(args: argparse.Namespace) -> int:
    import uvicorn

    from headrace_core.metadata import redact
    from headrace_ui.app import create_app

    url = metadata_url(args)
    if not _is_loopback(args.host):
        print(
            f"headrace ui: warning: listening on {args.host}, not only on this machine: "
            "anyone who can reach it can read every run, parameter, log and file path in "
            f"the store (there is no login). Use --host {DEFAULT_HOST} unless that is meant.",
            file=sys.stderr,
        )
    app = create_app(url)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"headrace ui: {redact(url)} on http://{shown}:{args.port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def tensorboard_command(args: argparse.Namespace) -> list[str]:
    """The TensorBoard command line for the chosen runs' training logs."""
    from headrace_core import history
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import MetadataStore, redact, sqlite_path, store_exists
    from headrace_ui.comparisons import tensorboard_logdirs

    url = metadata_url(args)
    if not store_exists(url):
        raise HeadraceError(f"no metadata store at {sqlite_path(url)}")
    store = MetadataStore(url, read_only=True)
    specs = []
    for run_id in args.run_ids:
        ctx = history.find_run(store, run_id, args.pipeline)
        found = tensorboard_logdirs(store, ctx)
        if not found:
            raise HeadraceError(
                f"run {run_id} of {redact(url)} has no training logs (no ModelRun output)"
            )
        specs.extend(f"{name}:{directory}" for name, directory in found)
    return [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir_spec",
        ",".join(specs),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]


def run_tensorboard(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    from headrace_core.errors import HeadraceError

    command = tensorboard_command(args)
    if args.print_command:
        print(" ".join(command))
        return 0
    if importlib.util.find_spec("tensorboard") is None:
        raise HeadraceError("TensorBoard is not installed here: pip install tensorboard")
    return subprocess.call(command)
