"""Model rewriting in a ``run_fn``, under TFX's names: a SavedModel rewritten as a TFLite model.

TFX users write, at the end of their ``run_fn``::

    tfrw = rewriter_factory.create_rewriter(rewriter_factory.TFLITE_REWRITER, name="tflite")
    tfrw.perform_rewrite(
        rewriter.ModelDescription(rewriter.ModelType.SAVED_MODEL, temp_saved_model_dir),
        rewriter.ModelDescription(rewriter.ModelType.TFLITE_MODEL, fn_args.serving_model_dir))

which leaves ``<serving_model_dir>/tflite`` (and copies of the SavedModel's ``assets`` and
``assets.extra``). ``headrace_tfx.components.trainer.rewriting`` maps TFX's module paths onto
this module. TensorFlow is imported when a rewrite runs, never when this module is imported.
"""

from __future__ import annotations

import abc
import enum
import importlib.util
import os
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from headrace_trainer.errors import RewriterUnavailableError, RewritingError

__all__ = [
    "ASSETS_DIRECTORY",
    "EXTRA_ASSETS_DIRECTORY",
    "TFJS_REWRITER",
    "TFLITE_FILENAME",
    "TFLITE_REWRITER",
    "BaseRewriter",
    "ModelDescription",
    "ModelType",
    "TFLiteRewriter",
    "create_rewriter",
]

#: ``rewriter_factory``'s names for the rewriters it knows (matched case-insensitively).
TFLITE_REWRITER = "TFLiteRewriter"
TFJS_REWRITER = "TFJSRewriter"
#: The file TFX's TFLite rewriter writes, and the name TFMA's ``tf_lite`` model type and
#: headrace's Trainer, Evaluator and Pusher look for.
TFLITE_FILENAME = "tflite"
ASSETS_DIRECTORY = "assets"
EXTRA_ASSETS_DIRECTORY = "assets.extra"


class ModelType(enum.Enum):
    """What kind of model a :class:`ModelDescription` points at (TFX's values)."""

    ANY_MODEL = 1
    SAVED_MODEL = 2
    TFLITE_MODEL = 3
    TFJS_MODEL = 4


class ModelDescription(NamedTuple):
    """A model's kind and the directory that holds (or will hold) it."""

    model_type: ModelType
    path: str


def _text(value: str | bytes | os.PathLike[str], what: str) -> str:
    # TFX accepts bytes paths and file names; a path object is as good as its string.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{what} must be a str or bytes, got {type(value).__name__}")


class BaseRewriter(abc.ABC):
    """A rewrite of one model into another: checked before, done, checked after.

    Subclasses give ``name`` and the three steps; each step raises ``ValueError`` for a
    model it cannot accept or produce. :meth:`perform_rewrite` runs them in order and turns
    such a failure into a :class:`~headrace_trainer.errors.RewritingError` (a ``ValueError``,
    as TFX raises) that names the rewriter, the step and the model.
    """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The name given to this rewriter; never empty."""

    @abc.abstractmethod
    def _pre_rewrite_validate(self, original_model: ModelDescription) -> None:
        """Raise ``ValueError`` if ``original_model`` is not a model this rewriter takes."""

    @abc.abstractmethod
    def _rewrite(self, original_model: ModelDescription, rewritten_model: ModelDescription) -> None:
        """Write the rewritten model where ``rewritten_model`` says; ``ValueError`` if not."""

    @abc.abstractmethod
    def _post_rewrite_validate(self, rewritten_model: ModelDescription) -> None:
        """Raise ``ValueError`` if the model just written is not usable."""

    def _failure(self, step: str, model: ModelDescription, error: Exception) -> RewritingError:
        return RewritingError(
            f"Trainer: rewriter {self.name!r} ({type(self).__name__}) {step} "
            f"{model.model_type.name} {model.path}: {error}"
        )

    def perform_rewrite(
        self, original_model: ModelDescription, rewritten_model: ModelDescription
    ) -> None:
        """Validate ``original_model``, rewrite it as ``rewritten_model``, validate that."""
        try:
            self._pre_rewrite_validate(original_model)
        except ValueError as e:
            raise self._failure("cannot rewrite", original_model, e) from e
        try:
            self._rewrite(original_model, rewritten_model)
        except ValueError as e:
            raise self._failure("failed to rewrite", original_model, e) from e
        try:
            self._post_rewrite_validate(rewritten_model)
        except ValueError as e:
            raise self._failure("wrote an unusable model at", rewritten_model, e) from e


def _copy_tree(source: str, target: str) -> None:
    """Copy a folder through ``tf.io.gfile``, so either side may be a bucket path."""
    import tensorflow as tf

    gfile = tf.io.gfile
    for folder, _dirs, files in gfile.walk(source):
        rel = os.path.relpath(folder, source)
        out = target if rel == "." else os.path.join(target, rel)
        gfile.makedirs(out)
        for name in files:
            gfile.copy(os.path.join(folder, name), os.path.join(out, name), overwrite=True)


def _converter_message(error: Exception) -> str:
    """The lines of a converter error that say what failed. The message begins with MLIR
    dumps of the offending operations; the last lines name them and the fix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "not supported" in line or "Select ops" in line]
    chosen = telling or lines[-2:] or ["(no message)"]
    return " / ".join(line if len(line) < 400 else line[:400] + "..." for line in chosen)


class TFLiteRewriter(BaseRewriter):
    """A SavedModel converted with ``tf.lite.TFLiteConverter`` into ``<path>/<filename>``.

    The constructor takes TFX's parameters. ``quantization_*`` and ``representative_dataset``
    set the converter's ``optimizations``, ``target_spec.supported_types`` and
    ``representative_dataset``; as in TFX, ``quantization_enable_full_integer`` only requires
    a ``representative_dataset`` (for integer-only operations, pass ``target_spec``-level
    settings through a converter of your own). Any other keyword sets the converter attribute
    of that name (TFX accepts and ignores them; an unknown one is a ``TypeError`` here).
    """

    def __init__(
        self,
        name: str,
        filename: str | bytes = TFLITE_FILENAME,
        copy_assets: bool = True,
        copy_assets_extra: bool = True,
        quantization_optimizations: Sequence[Any] | None = None,
        quantization_supported_types: Sequence[Any] | None = None,
        quantization_enable_full_integer: bool = False,
        signature_key: str | None = None,
        representative_dataset: Iterable[Sequence[Any]] | Any | None = None,
        **converter_options: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"TFLiteRewriter: name must be a non-empty string, got {name!r}")
        self._name = name
        self._filename = _text(filename, f"TFLiteRewriter {name!r}: filename")
        if not self._filename or os.sep in self._filename:
            raise ValueError(
                f"TFLiteRewriter {name!r}: filename must be a file name, got {self._filename!r}"
            )
        self._copy_assets = copy_assets
        self._copy_assets_extra = copy_assets_extra
        self._optimizations = list(quantization_optimizations or [])
        self._supported_types = list(quantization_supported_types or [])
        if quantization_enable_full_integer and representative_dataset is None:
            raise ValueError(
                f"TFLiteRewriter {name!r}: quantization_enable_full_integer=True needs a "
                "representative_dataset to calibrate the integer ranges with"
            )
        self._representative_dataset = representative_dataset
        self._signature_key = signature_key
        self._converter_options = converter_options

    @property
    def name(self) -> str:
        return self._name

    @property
    def filename(self) -> str:
        return self._filename

    def _pre_rewrite_validate(self, original_model: ModelDescription) -> None:
        if original_model.model_type is not ModelType.SAVED_MODEL:
            raise ValueError(
                f"TFLiteRewriter converts SavedModels only, not {original_model.model_type.name}"
            )
        import tensorflow as tf

        path = _text(original_model.path, "original_model.path")
        if not any(
            tf.io.gfile.exists(os.path.join(path, n))
            for n in ("saved_model.pb", "saved_model.pbtxt")
        ):
            raise ValueError(f"no saved_model.pb in {path}")

    def _converter(self, saved_model_dir: str) -> Any:
        import tensorflow as tf

        keys = [self._signature_key] if self._signature_key else None
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=keys)
        converter.optimizations = self._optimizations
        converter.target_spec.supported_types = self._supported_types
        converter.representative_dataset = self._representative_dataset
        for option, value in self._converter_options.items():
            if not hasattr(converter, option):
                raise TypeError(
                    f"TFLiteRewriter {self._name!r}: {option!r} is not a TFLiteConverter setting"
                )
            setattr(converter, option, value)
        return converter

    def _rewrite(self, original_model: ModelDescription, rewritten_model: ModelDescription) -> None:
        if rewritten_model.model_type not in (ModelType.TFLITE_MODEL, ModelType.ANY_MODEL):
            raise ValueError(
                "TFLiteRewriter writes TFLITE_MODEL (or ANY_MODEL), not "
                f"{rewritten_model.model_type.name}"
            )
        import tensorflow as tf

        source = _text(original_model.path, "original_model.path")
        target = _text(rewritten_model.path, "rewritten_model.path")
        try:
            flatbuffer = self._converter(source).convert()
        except (TypeError, ValueError):
            raise
        except Exception as e:  # the converter's own ConverterError and friends
            raise ValueError(
                f"tf.lite.TFLiteConverter failed: {type(e).__name__}: {_converter_message(e)}"
            ) from e

        gfile = tf.io.gfile
        gfile.makedirs(target)
        output = os.path.join(target, self._filename)
        # Written under another name, then renamed: a reader never finds half a model.
        partial = os.path.join(target, f".{self._filename}.partial")
        with gfile.GFile(partial, "wb") as f:
            f.write(flatbuffer)
        gfile.rename(partial, output, overwrite=True)
        for wanted, folder in (
            (self._copy_assets, ASSETS_DIRECTORY),
            (self._copy_assets_extra, EXTRA_ASSETS_DIRECTORY),
        ):
            if wanted and gfile.isdir(os.path.join(source, folder)):
                _copy_tree(os.path.join(source, folder), os.path.join(target, folder))

    def _post_rewrite_validate(self, rewritten_model: ModelDescription) -> None:
        # TFX leaves this step empty; a model that the interpreter cannot load should fail
        # the Trainer, not the first device or Evaluator that tries it.
        import tensorflow as tf

        path = os.path.join(_text(rewritten_model.path, "rewritten_model.path"), self._filename)
        if not tf.io.gfile.exists(path):
            raise ValueError(f"{path} was not written")
        with tf.io.gfile.GFile(path, "rb") as f:
            content = f.read()
        try:
            interpreter = tf.lite.Interpreter(model_content=content)
            interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"tf.lite.Interpreter cannot load {path}: {e}") from e


def _subclasses(cls: type) -> Iterable[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def create_rewriter(rewriter_type: str, *args: Any, **kwargs: Any) -> BaseRewriter:
    """A new rewriter of the class named ``rewriter_type`` (any case), built with the
    arguments given: :data:`TFLITE_REWRITER`, or the name of a ``BaseRewriter`` subclass of
    the user's own, as TFX's ``rewriter_factory.create_rewriter``."""
    wanted = str(rewriter_type).lower()
    if wanted == TFJS_REWRITER.lower():
        if importlib.util.find_spec("tensorflowjs") is None:
            raise RewriterUnavailableError(
                f"Trainer: rewriter {rewriter_type!r} needs tensorflowjs, which is not "
                "installed (and has no release for TensorFlow 2.16 in this stack)"
            )
        raise RewriterUnavailableError(
            f"Trainer: rewriter {rewriter_type!r} is not supported by headrace-trainer yet: "
            "only TFLITE_REWRITER ships; convert with tensorflowjs's own converter in run_fn"
        )
    known = {cls.__name__.lower(): cls for cls in _subclasses(BaseRewriter)}
    cls = known.get(wanted)
    if cls is None or getattr(cls, "__abstractmethods__", None):
        raise RewritingError(
            f"Trainer: no rewriter named {rewriter_type!r}; known: "
            + ", ".join(sorted(c.__name__ for c in known.values() if not c.__abstractmethods__))
        )
    rewriter: BaseRewriter = cls(*args, **kwargs)
    return rewriter
