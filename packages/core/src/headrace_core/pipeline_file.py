"""Load a pipeline from a Python file that defines ``pipeline`` or ``create_pipeline()``."""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import types
from typing import Any

from headrace_core.dsl import Pipeline
from headrace_core.errors import HeadraceError, PipelineFileError

__all__ = ["load_pipeline_file"]


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() else "_headrace_pipeline"
    existing = sys.modules.get(name)
    if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") != path:
        # Never shadow an unrelated module (a pipeline file called json.py, say).
        name = f"_headrace_pipeline_{abs(hash(path)):x}"
    return name


def load_pipeline_file(path: str) -> Pipeline:
    """Import ``path`` and return its pipeline; every failure is one clear PipelineFileError."""
    path = os.path.abspath(path)
    if not os.path.exists(path):
        raise PipelineFileError(f"{path}: no such pipeline file")
    if not os.path.isfile(path):
        raise PipelineFileError(f"{path}: not a file")
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PipelineFileError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    # As when the file runs as a script: its siblings import by name.
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    _import_headrace_packages_first(path)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except HeadraceError as e:
        del sys.modules[name]
        raise PipelineFileError(f"{path}: {e}") from e
    except KeyboardInterrupt:
        del sys.modules[name]
        raise
    except BaseException as e:  # SystemExit too: a pipeline file must not end the CLI
        del sys.modules[name]
        raise PipelineFileError(f"{path}: raised on import: {_describe(e, path)}") from e

    from headrace_core.plugins.manager import PIPELINE_MODULES

    PIPELINE_MODULES.add(name)
    found: Any = getattr(module, "pipeline", None)
    if isinstance(found, types.ModuleType):
        found = None  # `from tfx.orchestration import pipeline`: TFX's module, not a pipeline
    if found is None:
        factory = getattr(module, "create_pipeline", None)
        if factory is not None and not callable(factory):
            raise PipelineFileError(f"{path}: create_pipeline is not a function")
        if factory is None or _needs_arguments(factory):
            # TFX's examples: create_pipeline(pipeline_name, pipeline_root, ...) is called
            # by the file's own __main__ block, with the arguments only it knows.
            return _pipeline_run_by_main(path, name)
        try:
            found = factory()
        except HeadraceError as e:
            raise PipelineFileError(f"{path}: create_pipeline(): {e}") from e
        except Exception as e:
            raise PipelineFileError(f"{path}: create_pipeline() raised {_describe(e, path)}") from e
        what = "create_pipeline() returned"
    else:
        what = "`pipeline` is"
    if not isinstance(found, Pipeline):
        raise PipelineFileError(f"{path}: {what} a {type(found).__name__}, not a Pipeline")
    return found


def _import_headrace_packages_first(path: str) -> None:
    """Import the headrace packages the file imports before the file runs, so that what they
    set up for the process comes before any other library the file imports above them
    (headrace-tfx selects Keras 2, which TFX's files, importing TFMA first, would miss).
    Only names the file itself imports, so this costs nothing it would not pay anyway; the
    file's own errors, a syntax error or a failing import, are left for it to raise."""
    import ast

    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return
    names = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            names += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            names.append(statement.module)
    for top in dict.fromkeys(n.split(".")[0] for n in names):
        if top.startswith("headrace_"):
            try:
                importlib.import_module(top)
            except Exception:  # the file's own import raises it again, in its words
                return


def _needs_arguments(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in parameters
    )


def _forget_absl_flags(module_name: str) -> None:
    """The flags the file defined when imported as ``module_name``: run again as
    ``__main__`` it defines them again, which absl refuses unless they are gone."""
    flags = sys.modules.get("absl.flags")
    if flags is None:
        return
    for flag in list(flags.FLAGS.flags_by_module_dict().get(module_name, [])):
        if flag.name in flags.FLAGS:
            delattr(flags.FLAGS, flag.name)


def _pipeline_run_by_main(path: str, module_name: str) -> Pipeline:
    """A file that runs its own pipeline when run as a script (TFX's examples end with
    ``LocalDagRunner().run(...)`` or ``BeamDagRunner().run(...)`` in ``__main__``): run it as
    ``__main__`` with no command-line arguments (its flags keep their defaults) and take the
    pipeline it hands to the runner, which does not run."""
    import runpy

    from headrace_core._run_report import PipelineCaptured, capturing_runs

    _forget_absl_flags(module_name)
    argv = sys.argv
    sys.argv = [path]
    try:
        with capturing_runs():
            runpy.run_path(path, run_name="__main__")
    except PipelineCaptured as captured:
        found = captured.pipeline
        if not isinstance(found, Pipeline):
            raise PipelineFileError(
                f"{path}: runs a {type(found).__name__}, not a Pipeline"
            ) from None
        return found
    except HeadraceError as e:
        raise PipelineFileError(f"{path}: {e}") from e
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        raise PipelineFileError(f"{path}: raised as __main__: {_describe(e, path)}") from e
    finally:
        sys.argv = argv
    raise PipelineFileError(
        f"{path}: defines neither a module-level `pipeline` nor a `create_pipeline()` "
        "function that takes no arguments, and run as a script it runs no pipeline "
        "(LocalDagRunner().run(...))"
    )


def _describe(error: BaseException, path: str) -> str:
    """``ExcType: message (line N)``, with the line in the pipeline file where it happened."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(error, SyntaxError) and error.lineno:
        # str() of a SyntaxError already ends in "(file, line N)": say the line once.
        return f"{type(error).__name__}: {error.msg} (line {error.lineno})"
    text = f"{type(error).__name__}: {error}"
    return f"{text} (line {line})" if line else text
