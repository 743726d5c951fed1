"""The ``headrace`` command.

Start-up stays fast: this package imports only the standard library at the top; each command
imports what it needs when it runs, and none imports an executor. Commands from plugins
(``headrace_register_commands``) join the parser only when the command line names no built-in
command (a plugin's command, ``--help``, a typo), so built-in commands load no plugin for it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from headrace_core.cli import _gc, _metadata
from headrace_core.cli._inspect import (
    _cmd_artifacts,
    _cmd_cache,
    _cmd_diff,
    _cmd_lineage,
    _cmd_logs,
    _cmd_runs,
    _cmd_show,
)
from headrace_core.cli._run import _cmd_compile, _cmd_plugins, _cmd_run

__all__ = ["build_parser", "main"]

_Handler = Callable[[argparse.Namespace], int]


def build_parser(*, plugin_commands: bool = True) -> argparse.ArgumentParser:
    """The parser; ``plugin_commands=False`` leaves out the commands plugins register."""
    from headrace_core.__about__ import __version__

    parser = argparse.ArgumentParser(
        prog="headrace",
        description="headrace: production ML pipelines in the architecture of TFX.",
    )
    parser.add_argument("--version", action="version", version=f"headrace-core {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("plugins", help="list installed plugins and what they register")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any plugin failed to load"
    )
    p.set_defaults(handler=_cmd_plugins)

    p = sub.add_parser("compile", help="compile a pipeline file to the portable IR (JSON)")
    p.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.add_argument(
        "--validate",
        action="store_true",
        help="check the document against the IR's JSON Schema (needs jsonschema)",
    )
    p.add_argument(
        "--target",
        default="ir",
        metavar="NAME",
        help="ir (default), or an installed orchestrator's format: airflow, kubeflow, ...",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the target (see its docs), e.g. schedule=@daily",
    )
    p.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    p.set_defaults(handler=_cmd_compile)

    p = sub.add_parser("run", help="run a pipeline (on this machine unless --orchestrator)")
    p.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    p.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    p.add_argument(
        "--orchestrator",
        default="local",
        metavar="NAME",
        help="local (default) or an installed one, e.g. beam (see headrace plugins)",
    )
    p.add_argument(
        "--orchestrator-arg",
        "--beam-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed to the orchestrator, e.g. --beam-arg=--runner=PortableRunner",
    )
    p.add_argument(
        "--metadata", metavar="URL", help="metadata store URL (default: SQLite in the root)"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the plan with predicted cache hits"
    )
    p.add_argument(
        "--from-nodes",
        action="append",
        metavar="NODE[,NODE]",
        help="run these and what depends on them",
    )
    p.add_argument(
        "--to-nodes",
        action="append",
        metavar="NODE[,NODE]",
        help="run these and what they depend on",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="re-execute only what failed or never finished in this run",
    )
    p.add_argument(
        "--max-parallel", type=int, metavar="N", help="nodes run at once (default: cores)"
    )
    p.add_argument("--isolation", choices=("in-process", "subprocess"), default="in-process")
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON instead of progress"
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="stream what nodes print (normally in their logs) and full tracebacks of failures",
    )
    p.set_defaults(handler=_cmd_run)

    def store_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--metadata", metavar="URL", help="metadata store URL (or HEADRACE_METADATA)"
        )
        p.add_argument("--pipeline-root", metavar="DIR", help="read the SQLite store in this root")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("runs", help="list runs or show one")
    runs = p.add_subparsers(dest="runs_command", metavar="list|show|logs")
    runs.required = True
    q = runs.add_parser("list", help="recent runs")
    store_options(q)
    q.add_argument("--pipeline", help="only this pipeline")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(handler=_cmd_runs)
    q = runs.add_parser("show", help="one run, node by node, with errors")
    q.add_argument("run_id", metavar="RUN_ID")
    store_options(q)
    q.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    q.set_defaults(handler=_cmd_runs)
    q = runs.add_parser("logs", help="what a run's nodes printed (captured in their logs)")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("node", metavar="NODE", nargs="?", help="only this node")
    store_options(q)
    q.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    q.set_defaults(handler=_cmd_logs)

    p = sub.add_parser("artifacts", help="list artifacts")
    p.add_argument("artifacts_command", choices=("list",), metavar="list")
    store_options(p)
    p.add_argument("--type", metavar="T", help="only artifacts of this type")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=_cmd_artifacts)

    p = sub.add_parser(
        "lineage", help="trace an artifact back to its inputs or forward to what used it"
    )
    p.add_argument("artifact_id", type=int, metavar="ARTIFACT_ID")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--upstream", action="store_true", help="where it came from (default)")
    direction.add_argument("--downstream", action="store_true", help="what was made from it")
    store_options(p)
    p.set_defaults(handler=_cmd_lineage)

    p = sub.add_parser("show", help="a readable summary of an artifact (statistics, schema, ...)")
    p.add_argument("artifact_id", type=int, metavar="ARTIFACT_ID")
    store_options(p)
    p.set_defaults(handler=_cmd_show)

    p = sub.add_parser("diff", help="which nodes re-ran between two runs, and why")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    store_options(p)
    p.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    p.set_defaults(handler=_cmd_diff)

    p = sub.add_parser("cache", help="explain caching")
    cache = p.add_subparsers(dest="cache_command", metavar="why")
    cache.required = True
    q = cache.add_parser("why", help="would NODE be cached now, and if not, what changed")
    q.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    q.add_argument("node", metavar="NODE")
    q.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    q.add_argument("--metadata", metavar="URL")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_cmd_cache)

    p = sub.add_parser(
        "tfx", help="run a TFX pipeline file unchanged (headrace-tfx)", add_help=False
    )
    p.add_argument("tfx_args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_cmd_tfx)

    _metadata.add_parsers(sub)
    _gc.add_parsers(sub)
    if plugin_commands:
        _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """A subparser for each command a plugin registered. A broken one is a warning naming
    its plugin, never the end of the built-in commands."""
    from headrace_core.executor import import_ref
    from headrace_core.plugins import get_plugin_manager

    for entry in get_plugin_manager().commands.entries():
        spec, who = entry.value, entry.provenance
        if spec.name in sub.choices:
            print(
                f"headrace: warning: command {spec.name!r} of {who.distribution} "
                f"(plugin {who.plugin!r}) is ignored: a built-in command has that name",
                file=sys.stderr,
            )
            continue
        p = sub.add_parser(spec.name, help=f"{spec.description} ({who.distribution})".lstrip())
        if spec.arguments is not None:
            try:
                import_ref(spec.arguments)(p)
            except Exception as e:  # a broken plugin must not take the others down
                del sub.choices[spec.name]
                print(
                    f"headrace: warning: command {spec.name!r} of {who.distribution}: "
                    f"{spec.arguments} failed: {type(e).__name__}: {e}",
                    file=sys.stderr,
                )
                continue
        p.set_defaults(handler=_plugin_handler(spec.run, spec.name, who.distribution))


def _plugin_handler(ref: str, name: str, distribution: str) -> _Handler:
    def handler(args: argparse.Namespace) -> int:
        from headrace_core.errors import HeadraceError
        from headrace_core.executor import import_ref

        try:
            run = import_ref(ref)
        except Exception as e:
            raise HeadraceError(
                f"command {name!r} of {distribution}: cannot import {ref}: {e}"
            ) from e
        code = run(args)
        return int(code or 0)

    return handler


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub


def _cmd_tfx(args: argparse.Namespace) -> int:
    """``headrace tfx ...`` is headrace-tfx's command line, when that package is installed."""
    from headrace_core.errors import HeadraceError

    try:
        from headrace_tfx.cli import main as tfx_main
    except ImportError as e:
        if e.name not in ("headrace_tfx", "headrace_tfx.cli"):
            raise
        raise HeadraceError(
            "headrace tfx runs TFX pipeline files with headrace-tfx, which is not installed: "
            "pip install headrace-tfx"
        ) from None
    code: int = tfx_main(args.tfx_args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(plugin_commands=False)
    # The first word that is not an option is the command (top-level options take no value).
    first = next((w for w in words if not w.startswith("-")), None)
    sub = _subcommands(parser)
    if first not in sub.choices:
        _add_plugin_commands(sub)
    args = parser.parse_args(words)
    handler: _Handler = args.handler
    from headrace_core.errors import HeadraceError

    try:
        return handler(args)
    except HeadraceError as e:
        message = str(e).splitlines()
        print(f"headrace: error: {message[0] if message else type(e).__name__}", file=sys.stderr)
        for extra in message[1:]:
            print(extra, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("headrace: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        if e.filename is None:
            raise
        # A folder that cannot be written (read-only, full, a file in the way): the path and
        # the system's reason say all a traceback would.
        print(f"headrace: error: {e.filename}: {e.strerror or e}", file=sys.stderr)
        print(
            "headrace: check that the folder exists, is writable and has free space",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as other CLIs do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
