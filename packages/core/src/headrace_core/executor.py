"""The executor contract: TFX's ``Do(input_dict, output_dict, exec_properties)`` plus a context.

Executors are referenced by ``"module:attr"`` strings and imported only when a node runs, so
defining, compiling or inspecting a pipeline never imports TensorFlow or Beam.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from headrace_core.artifacts import Artifact, decode_split_names, serving_model_path, split_uri
from headrace_core.errors import HeadraceError

__all__ = [
    "BaseExecutor",
    "ExecutorContext",
    "ExecutorInputError",
    "describe_directory",
    "import_ref",
    "included_splits",
    "json_property",
    "load_executor_class",
    "object_ref",
    "report_progress",
    "saved_model_dir",
    "single_input",
    "split_files_pattern",
    "split_names",
]


@dataclass(frozen=True)
class ExecutorContext:
    """What an executor may know about the run around it."""

    pipeline_name: str = ""
    pipeline_root: str = ""
    run_id: str = ""
    node_id: str = ""
    execution_id: int | None = None
    tmp_dir: str = ""
    beam_pipeline_args: tuple[str, ...] = field(default_factory=tuple)


class BaseExecutor:
    """Base of every executor. Subclasses implement :meth:`Do`."""

    def __init__(self, context: ExecutorContext | None = None) -> None:
        self._context = context or ExecutorContext()

    @property
    def context(self) -> ExecutorContext:
        return self._context

    def Do(  # noqa: N802 - TFX's name, so ported executors keep working
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        raise NotImplementedError(f"{type(self).__qualname__} does not implement Do()")

    def _get_tmp_dir(self) -> str:
        if self._context.tmp_dir:
            os.makedirs(self._context.tmp_dir, exist_ok=True)
            return self._context.tmp_dir
        return tempfile.mkdtemp(prefix="headrace-")

    def _get_beam_pipeline_args(self) -> list[str]:
        return list(self._context.beam_pipeline_args)


class ExecutorInputError(HeadraceError, ValueError):
    """An executor's input or output dict does not hold what its component declares.

    A ``ValueError`` too, as the hand-written checks it replaces raised; packages with an
    error class of their own pass it to :func:`single_input` as ``error=``.
    """


@overload
def single_input(
    artifacts_by_key: Mapping[str, Sequence[Artifact]],
    key: str,
    *,
    component: str,
    optional: Literal[False] = False,
    what: str = "input",
    error: type[Exception] = ExecutorInputError,
) -> Artifact: ...


@overload
def single_input(
    artifacts_by_key: Mapping[str, Sequence[Artifact]],
    key: str,
    *,
    component: str,
    optional: bool,
    what: str = "input",
    error: type[Exception] = ExecutorInputError,
) -> Artifact | None: ...


def single_input(
    artifacts_by_key: Mapping[str, Sequence[Artifact]],
    key: str,
    *,
    component: str,
    optional: bool = False,
    what: str = "input",
    error: type[Exception] = ExecutorInputError,
) -> Artifact | None:
    """The one artifact under ``key`` of an input (or output: ``what="output"``) dict.

    An empty ``optional`` key gives None; anything else but exactly one artifact raises
    ``error`` (whose constructor takes the message), naming the component, the key and the
    URIs found, so a miswired pipeline is told apart from a bug in the executor.
    """
    artifacts = list(artifacts_by_key.get(key) or ())
    if optional and not artifacts:
        return None
    if len(artifacts) != 1:
        found = f" ({', '.join(a.uri for a in artifacts)})" if artifacts else ""
        raise error(
            f"{component}: {what} {key!r} takes exactly one artifact, got {len(artifacts)}{found}"
        )
    return artifacts[0]


def describe_directory(directory: str, *, limit: int = 20) -> str:
    """What ``directory`` holds, for error messages: ``it holds a, b, ...``, ``it holds
    nothing`` or ``it does not exist`` (the first ``limit`` names, sorted)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return "it does not exist"
    if not names:
        return "it holds nothing"
    more = ", ..." if len(names) > limit else ""
    return "it holds " + ", ".join(names[:limit]) + more


def split_files_pattern(
    artifact: Artifact,
    split: str,
    *,
    component: str,
    role: str = "examples",
    error: type[Exception] = ExecutorInputError,
) -> str:
    """``<uri>/Split-<split>/*``, for a Beam source, once the folder is known to hold files: a
    missing or empty split is an ``error`` naming the component, the split and what the folder
    holds, instead of a Beam pipeline that reads nothing."""
    directory = split_uri(artifact, split)
    if not (os.path.isdir(directory) and any(not n.startswith(".") for n in os.listdir(directory))):
        raise error(
            f"{component}: split {split!r} of {role} {artifact.uri} has no files: "
            f"{directory}: {describe_directory(directory)}"
        )
    return os.path.join(directory, "*")


def saved_model_dir(
    model: Artifact,
    *,
    component: str,
    role: str = "model",
    error: type[Exception] = ExecutorInputError,
) -> str:
    """The SavedModel folder of a Model artifact (``<uri>/Format-Serving``, where the Trainer
    writes it), once it is known to hold one: otherwise an ``error`` naming the component, the
    input (``role``) and what the folder holds."""
    path = serving_model_path(model)
    if any(os.path.isfile(os.path.join(path, n)) for n in ("saved_model.pb", "saved_model.pbtxt")):
        return path
    raise error(
        f"{component}: {role} {model.uri} holds no SavedModel: no saved_model.pb in {path} "
        f"({describe_directory(path)})"
    )


def json_property(
    exec_properties: Mapping[str, Any],
    name: str,
    *,
    component: str,
    error: type[Exception] = ExecutorInputError,
) -> Any:
    """Execution property ``name`` as headrace passes it, or parsed from the JSON string TFX
    passes instead (an empty string is None); bad JSON is an ``error`` naming it."""
    value = exec_properties.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value) if value.strip() else None
    except json.JSONDecodeError as e:
        raise error(f"{component}: {name} is not valid JSON ({e})") from None


def report_progress(message: str) -> None:
    """Tell the user where a long-running executor is ("epoch 3/10", "read 12,000 records"):
    ``headrace run`` shows it on the node's progress line. Cheap, and a no-op when nobody
    listens, so executors may call it as often as they like."""
    from headrace_core.runtime import report_progress as report

    report(message)


def split_names(artifact: Artifact, *, component: str, role: str) -> list[str]:
    """The split names ``artifact`` declares (its ``split_names`` property); none is an error
    naming the component, the artifact's role and its URI."""
    encoded = artifact.get_property("split_names")
    names = decode_split_names(encoded if isinstance(encoded, str) else None)
    if not names:
        raise ExecutorInputError(
            f"{component}: {role} artifact {artifact.uri} has no split_names property "
            '(a JSON list such as \'["train", "eval"]\')'
        )
    return names


def included_splits(
    artifact: Artifact,
    exclude_splits: Any,
    *,
    component: str,
    role: str,
    purpose: str,
) -> list[str]:
    """The splits of ``artifact`` (its ``split_names``) that ``exclude_splits`` leaves, in order.

    ``exclude_splits`` is the parameter as it arrives: a list, TFX's JSON string of one, or
    None. A name the artifact lacks is logged, not refused (TFX ignores it). ``role`` names
    the artifact and ``purpose`` what its splits are for, in the errors: "every split of the
    statistics (train, eval) is excluded by exclude_splits; nothing to validate".
    """
    value = exclude_splits
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as e:
            raise ExecutorInputError(f"{component}: exclude_splits is not JSON ({e})") from None
    value = [] if value is None else value
    if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
        raise ExecutorInputError(
            f"{component}: exclude_splits must be a list of split names, got {value!r}"
        )
    names = split_names(artifact, component=component, role=role)
    unknown = [name for name in value if name not in names]
    if unknown:
        logging.getLogger(__name__).warning(
            "%s: exclude_splits names %s, which the %s %s does not have (splits: %s)",
            component,
            ", ".join(unknown),
            role,
            artifact.uri,
            ", ".join(names),
        )
    splits = [name for name in names if name not in value]
    if not splits:
        raise ExecutorInputError(
            f"{component}: every split of the {role} ({', '.join(names)}) is excluded by "
            f"exclude_splits; nothing to {purpose}"
        )
    return splits


def object_ref(obj: Any) -> str:
    """The ``"module:qualname"`` reference that :func:`import_ref` resolves back to ``obj``."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname:
        raise ValueError(f"{obj!r} has no module and qualified name to reference it by")
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise ValueError(
            f"{module}.{qualname} is defined in a local scope; define it at module level "
            "so it can be imported by name when the node runs"
        )
    return f"{module}:{qualname}"


def import_ref(ref: str, *, source_file: str | None = None) -> Any:
    """Import ``"module:attr[.attr...]"``.

    ``source_file`` is a fallback for modules that are not importable by name, such as a
    pipeline file loaded by path: the module is then executed from that file under its name.
    """
    module_name, sep, attr_path = ref.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"invalid reference {ref!r}: expected 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if not source_file or (e.name != module_name.split(".")[0] and e.name != module_name):
            raise
        module = _import_from_file(module_name, source_file)
    obj: Any = module
    resolved = module_name
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(
                f"cannot resolve {ref!r}: {resolved} has no attribute {part!r}"
            ) from None
        resolved = f"{resolved}.{part}"
    return obj


def _import_from_file(module_name: str, source_file: str) -> Any:
    if module_name in sys.modules:
        return sys.modules[module_name]
    if not os.path.isfile(source_file):
        raise ModuleNotFoundError(
            f"module {module_name!r} is not importable and its source file {source_file!r} "
            "does not exist",
            name=module_name,
        )
    spec = importlib.util.spec_from_file_location(module_name, source_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load module {module_name!r} from {source_file!r}")
    module = importlib.util.module_from_spec(spec)
    # Siblings of the file import each other by name, as they do when the file runs as a script.
    directory = os.path.dirname(os.path.abspath(source_file))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def load_executor_class(ref: str, *, source_file: str | None = None) -> type[BaseExecutor]:
    obj = import_ref(ref, source_file=source_file)
    if not (isinstance(obj, type) and callable(getattr(obj, "Do", None))):
        raise TypeError(f"executor {ref!r} is not a class with a Do() method")
    return obj
