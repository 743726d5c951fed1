"""Pushing a model into TensorFlow Serving's versioned layout with plain file operations.

The model is the Trainer's serving directory as it is: a SavedModel (``saved_model.pb``), or
a TFLite model as TFX's TFLite rewriter writes it (a ``tflite`` file, with copies of the
SavedModel's ``assets``). The file that makes it a model is copied last either way.

What a push leaves under ``base_directory``::

    <version>/                             a whole model; it appears in one rename
    .headrace/lock                         locked (flock) while a push runs: pushes take turns
    .headrace/pushes/<fingerprint>.json    one record per model content pushed here
    .headrace/staging/<version>/           only while a push copies (or after it crashed)

A model server watching ``base_directory`` (TensorFlow Serving's file-system source) only
considers subdirectories whose name is a number, and does not look inside others, so it never
sees ``.headrace``. The copy is made in ``.headrace/staging/<version>/`` and, once every file
in it is flushed to disk, renamed to ``<version>/``. Staging lives under ``base_directory`` so
the rename stays on one file system, where it is atomic: a numeric directory appears with the
whole model in it, never empty or half-copied, so a server never tries (and fails) to load a
version while it is being written. Inside staging, ``saved_model.pb`` (or ``tflite``) is still
written last, so even a reader of the staging folder never finds a model with files missing.

A record is JSON: ``{"format": 1, "fingerprint": F, "version": V, "state": S, "model_dir": D,
"updated": ISO-8601}`` where ``F`` is :func:`content_fingerprint` of the pushed SavedModel
directory and ``S`` is

* ``copying``: written before ``.headrace/staging/<V>/`` is created. Found while holding the
  lock, it means the push that wrote it died before marking it ``complete``.
* ``complete``: ``<V>/`` holds the whole model.
* ``abandoned``: the push did not finish; its staging copy was removed and no ``<V>/`` of its
  own exists.

A push, holding the lock:

1. Repairs what crashed pushes left. Every folder in ``.headrace/staging/`` is removed: it is
   a copy that was never renamed into place, and no server has seen it. A ``copying`` record
   whose ``<V>/`` holds the model with the recorded fingerprint becomes ``complete`` (the
   crash came after the rename); any other ``copying`` record becomes ``abandoned``. A
   ``<V>/`` is never removed: once renamed into place it is whole, and may be in service.
2. If the latest version already holds this content, records it and copies nothing (the same
   model blessed again by a later run). Only the *latest* version counts: pushing an older
   model again (a rollback) must make it the version a server picks, so it gets a new one.
3. Otherwise picks ``version = max(int(time.time()), highest version seen + 1)``, where
   "seen" covers the numeric directories and every record (abandoned ones too, so a number
   in a record names one push only), so versions only increase, also for two pushes in one
   second or after a clock step back; writes the ``copying`` record; copies every file into
   ``.headrace/staging/<version>/``, each flushed to disk, ``saved_model.pb`` (``tflite``)
   last through a temporary name; renames the staging folder to ``<version>/`` (refusing if
   a ``<version>/`` appeared meanwhile); marks the record ``complete``.

An error rather than a crash (a full disk, a ``<version>/`` made by another tool during the
copy) removes the staging folder at once, marks the record ``abandoned`` and raises
:class:`~headrace_pusher.errors.PushDestinationError`.

The guarantee holds where renaming a directory is atomic (local file systems, NFS). Bucket
mounts such as gcsfuse or s3fs rename a directory object by object, so there a server can
see a version before it is whole.

Locking uses ``fcntl.flock``: pushes from several processes to one local directory take
turns. On a network file system without ``flock`` support, do not push to one directory from
two machines at once.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from headrace_pusher.errors import PushDestinationError, PusherError, SavedModelNotFoundError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: pushes to one directory must not overlap
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "COMPLETE",
    "COPYING",
    "ABANDONED",
    "META_DIR",
    "RECORD_FORMAT",
    "MODEL_FILES",
    "SAVED_MODEL_FILES",
    "TFLITE_FILE",
    "STAGING_DIR",
    "content_fingerprint",
    "PushRecord",
    "PushResult",
    "find_saved_model",
    "push_saved_model",
    "read_records",
    "version_dirs",
]

log = logging.getLogger(__name__)

#: The files whose presence makes a directory a SavedModel.
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
#: TFX's TFLite rewriter's default file name, the one TFMA's ``tf_lite`` model type reads.
TFLITE_FILE = "tflite"
#: The files whose presence makes a directory a model to push; copied last.
MODEL_FILES = (*SAVED_MODEL_FILES, TFLITE_FILE)
#: The Pusher's own folder inside ``base_directory``.
META_DIR = ".headrace"
#: Where, inside :data:`META_DIR`, a push copies the model before renaming it into place.
STAGING_DIR = "staging"
RECORD_FORMAT = 1
COPYING = "copying"
COMPLETE = "complete"
ABANDONED = "abandoned"
_STATES = (COPYING, COMPLETE, ABANDONED)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PushRecord:
    """One ``.headrace/pushes/<fingerprint>.json`` file."""

    fingerprint: str
    version: int
    state: str
    model_dir: str = ""
    updated: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "fingerprint": self.fingerprint,
            "version": self.version,
            "state": self.state,
            "model_dir": self.model_dir,
            "updated": self.updated,
        }


@dataclass(frozen=True)
class PushResult:
    """What a push did: the version directory now holding the model, and how it got there."""

    version: int
    destination: str
    fingerprint: str
    #: True when the latest version already held this model and nothing was copied.
    reused: bool = False
    #: Versions whose staging folders, left by crashed pushes, were removed. None of them
    #: was ever a version directory a server could see.
    removed_staging: tuple[int, ...] = field(default_factory=tuple)


def content_fingerprint(directory: str) -> str:
    """BLAKE2b over every file's relative path, size and bytes, in a fixed order.

    The shape of :func:`headrace_core.cache.fingerprint_path`, but every byte counts: that
    function stands in size and modification time for files over 64 MiB, and a copy has a
    new modification time, so a pushed version would never match its source.
    """
    digest = hashlib.blake2b(digest_size=16)
    for folder, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, directory)
            digest.update(f"{rel}\0{os.path.getsize(path)}\0".encode())
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()


def find_saved_model(model_dir: str, model_uri: str = "") -> str:
    """The path of the SavedModel file in ``model_dir``, else of its TFLite model file; a
    clear error if there is neither."""
    for name in MODEL_FILES:
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            return path
    what = f"model artifact {model_uri}" if model_uri else f"directory {model_dir}"
    if not os.path.isdir(model_dir):
        detail = f"{model_dir} does not exist"
    else:
        names = sorted(os.listdir(model_dir))
        detail = f"{model_dir} holds no saved_model.pb or {TFLITE_FILE}" + (
            f" (it holds: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''})"
            if names
            else " (it is empty)"
        )
    hint = ""
    if model_uri and any(os.path.isfile(os.path.join(model_uri, n)) for n in MODEL_FILES):
        hint = (
            f"; a model is at the artifact's root, {model_uri}, but the Trainer's layout "
            "puts it in Format-Serving/"
        )
    raise SavedModelNotFoundError(
        f"Pusher: {what} holds no SavedModel or TFLite model: {detail}{hint}"
    )


def version_dirs(base_directory: str) -> dict[int, str]:
    """The numeric subdirectories of ``base_directory`` (what a model server sees as versions)."""
    found: dict[int, str] = {}
    try:
        entries = list(os.scandir(base_directory))
    except FileNotFoundError:
        return found
    for entry in entries:
        if entry.name.isascii() and entry.name.isdigit() and entry.is_dir():
            found[int(entry.name)] = entry.path
    return found


def _is_model(directory: str) -> bool:
    return any(os.path.isfile(os.path.join(directory, n)) for n in MODEL_FILES)


def _records_dir(base_directory: str) -> str:
    return os.path.join(base_directory, META_DIR, "pushes")


def _staging_root(base_directory: str) -> str:
    return os.path.join(base_directory, META_DIR, STAGING_DIR)


def read_records(base_directory: str) -> dict[str, PushRecord]:
    """Every push record under ``base_directory``, by fingerprint."""
    directory = _records_dir(base_directory)
    records: dict[str, PushRecord] = {}
    if not os.path.isdir(directory):
        return records
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            record = PushRecord(
                fingerprint=str(data["fingerprint"]),
                version=int(data["version"]),
                state=str(data["state"]),
                model_dir=str(data.get("model_dir", "")),
                updated=str(data.get("updated", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise PushDestinationError(
                f"Pusher: push record {path} is unreadable ({type(e).__name__}: {e}); "
                "remove it if it is not a headrace push record"
            ) from None
        if record.state not in _STATES or name != f"{record.fingerprint}.json":
            raise PushDestinationError(
                f"Pusher: push record {path} is not valid: state {record.state!r}, "
                f"fingerprint {record.fingerprint!r}"
            )
        records[record.fingerprint] = record
    return records


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _fsync_dir(directory: str) -> None:
    # Makes renames and new entries durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_record(base_directory: str, record: PushRecord) -> None:
    directory = _records_dir(base_directory)
    path = os.path.join(directory, f"{record.fingerprint}.json")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record.to_json(), f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(directory)


def _copy_file(source: str, target: str) -> None:
    """Copy one file and flush it to disk, so it is complete before the model file appears."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
        dst.flush()
        os.fsync(dst.fileno())
    shutil.copymode(source, target)


def _copy_saved_model(model_dir: str, target: str) -> int:
    """Copy ``model_dir`` into the new, empty staging directory ``target``, every file flushed
    to disk, the model file(s) (:data:`MODEL_FILES`) last, each through a temporary name.
    Returns the number
    of files copied."""
    last: list[str] = []
    count = 0
    for directory, dirs, files in os.walk(model_dir):
        dirs.sort()
        rel = os.path.relpath(directory, model_dir)
        out = target if rel == "." else os.path.join(target, rel)
        os.makedirs(out, exist_ok=True)
        for name in sorted(files):
            if rel == "." and name in MODEL_FILES:
                last.append(name)
                continue
            _copy_file(os.path.join(directory, name), os.path.join(out, name))
            count += 1
        if out != target:
            _fsync_dir(out)
    _fsync_dir(target)
    for name in last:
        tmp = os.path.join(target, f".{name}.headrace-tmp")
        _copy_file(os.path.join(model_dir, name), tmp)
        os.replace(tmp, os.path.join(target, name))
        count += 1
    _fsync_dir(target)
    return count


@contextlib.contextmanager
def _locked(base_directory: str) -> Iterator[None]:
    meta = os.path.join(base_directory, META_DIR)
    try:
        os.makedirs(_records_dir(base_directory), exist_ok=True)
        fd = os.open(os.path.join(meta, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise _destination_error(base_directory, e) from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _destination_error(base_directory: str, error: OSError) -> PushDestinationError:
    at = f" ({error.filename})" if error.filename and error.filename != base_directory else ""
    return PushDestinationError(
        f"Pusher: cannot write to push_destination.filesystem.base_directory "
        f"{base_directory}: {error.strerror or error}{at}"
    )


def _repair(base_directory: str, records: dict[str, PushRecord]) -> list[int]:
    """Settle what crashed pushes left; return the versions whose staging folders were
    removed. Called holding the lock, so no push is copying now."""
    removed: list[int] = []
    root = _staging_root(base_directory)
    try:
        leftovers = sorted(os.scandir(root), key=lambda entry: entry.name)
    except FileNotFoundError:
        leftovers = []
    for entry in leftovers:
        # Never renamed into place, so no model server has seen it: removing it is safe.
        log.warning("Pusher: removing %s, the copy of a push that did not finish", entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.remove(entry.path)
        if entry.name.isascii() and entry.name.isdigit():
            removed.append(int(entry.name))
    if leftovers:
        _fsync_dir(root)
    for fingerprint, record in list(records.items()):
        if record.state != COPYING:
            continue
        directory = os.path.join(base_directory, str(record.version))
        # A version directory only ever appears by the final rename, so it is whole; the
        # fingerprint tells this push's from one another tool put there after the crash.
        if _is_model(directory) and content_fingerprint(directory) == fingerprint:
            state = COMPLETE
            log.info("Pusher: version %s was renamed into place before a crash", record.version)
        else:
            state = ABANDONED
        records[fingerprint] = PushRecord(
            fingerprint, record.version, state, record.model_dir, _now()
        )
        _write_record(base_directory, records[fingerprint])
    return sorted(removed)


class _VersionTakenError(FileExistsError):
    """``<base>/<version>`` appeared while this push was copying to staging."""


def _publish(staging: str, target: str) -> None:
    """Rename the finished copy to its version directory: a server sees it whole, at once."""
    # rename(2) would silently replace an empty directory, so look first; the lock keeps
    # other pushes out, and this only guards against another tool.
    if os.path.lexists(target):
        raise _VersionTakenError(target)
    os.rename(staging, target)
    _fsync_dir(os.path.dirname(target))
    _fsync_dir(os.path.dirname(staging))


def _latest_holds(
    base_directory: str,
    fingerprint: str,
    versions: dict[int, str],
    records: dict[str, PushRecord],
) -> int | None:
    """The latest version, if it already holds the model with ``fingerprint``."""
    if not versions:
        return None
    latest = max(versions)
    directory = versions[latest]
    if not _is_model(directory):
        return None
    described = {r.version: r for r in records.values() if r.state == COMPLETE}
    other = described.get(latest)
    if other is not None and other.fingerprint != fingerprint:
        # Version directories are written once: trust the record instead of hashing a model.
        return None
    return latest if content_fingerprint(directory) == fingerprint else None


def push_saved_model(
    model_dir: str,
    base_directory: str,
    *,
    model_uri: str = "",
    clock: Callable[[], float] = time.time,
) -> PushResult:
    """Push the model (SavedModel or TFLite) in ``model_dir`` to ``<base_directory>/<version>/``
    (see the module documentation for the protocol). ``model_uri`` only improves error
    messages; ``clock`` gives the time the version number starts from."""
    find_saved_model(model_dir, model_uri)
    base_directory = os.path.abspath(base_directory)
    try:
        fingerprint = content_fingerprint(model_dir)
    except OSError as e:
        raise PusherError(
            f"Pusher: cannot read the model in {model_dir}: {e.strerror or e}"
            + (f" ({e.filename})" if e.filename else "")
        ) from None
    try:
        os.makedirs(base_directory, exist_ok=True)
    except OSError as e:
        raise _destination_error(base_directory, e) from None
    with _locked(base_directory):
        records = read_records(base_directory)
        try:
            removed = _repair(base_directory, records)
        except OSError as e:
            raise _destination_error(base_directory, e) from None
        versions = version_dirs(base_directory)

        existing = _latest_holds(base_directory, fingerprint, versions, records)
        if existing is not None:
            record = records.get(fingerprint)
            if record is None or record.version != existing or record.state != COMPLETE:
                record = PushRecord(fingerprint, existing, COMPLETE, model_dir, _now())
                _write_record(base_directory, record)
            log.info("Pusher: version %s already holds this model; nothing copied", existing)
            return PushResult(
                existing,
                versions[existing],
                fingerprint,
                reused=True,
                removed_staging=tuple(removed),
            )

        seen = [*versions, *(r.version for r in records.values())]
        version = max(int(clock()), max(seen, default=0) + 1)
        target = os.path.join(base_directory, str(version))
        staging = os.path.join(_staging_root(base_directory), str(version))
        created = False
        step = "copying"
        try:
            _write_record(
                base_directory, PushRecord(fingerprint, version, COPYING, model_dir, _now())
            )
            os.makedirs(os.path.dirname(staging), exist_ok=True)
            os.mkdir(staging)
            created = True
            count = _copy_saved_model(model_dir, staging)
            step = "renaming"
            _publish(staging, target)
        except OSError as e:
            # An error (not a crash) can clean up at once; a crash is repaired by the next push.
            # Only the staging folder this push created is removed; a version directory never.
            if created:
                shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                _write_record(
                    base_directory, PushRecord(fingerprint, version, ABANDONED, model_dir, _now())
                )
            if isinstance(e, _VersionTakenError):
                raise PushDestinationError(
                    f"Pusher: {target} appeared while this push copied the model to {staging}: "
                    f"something other than the Pusher writes versions to {base_directory}. "
                    f"{target} was left as it is and nothing was pushed; pushing again picks "
                    "a higher version"
                ) from None
            at = f" ({e.filename})" if e.filename else ""
            if step == "copying":
                what = f"copying {model_dir} to {staging}, to become {target},"
            else:
                what = f"renaming {staging} to {target}"
            raise PushDestinationError(f"Pusher: {what} failed: {e.strerror or e}{at}") from None
        _write_record(base_directory, PushRecord(fingerprint, version, COMPLETE, model_dir, _now()))
        log.info("Pusher: copied %d files to %s", count, target)
        return PushResult(version, target, fingerprint, removed_staging=tuple(removed))
