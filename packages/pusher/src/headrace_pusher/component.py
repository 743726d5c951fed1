"""The ``Pusher`` component: its spec, ``push_destination`` checks and a reference to its
executor. Nothing heavy: protobuf is imported only to read a ``PushDestination`` message."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    InfraBlessing,
    InvalidComponentArgumentError,
    Model,
    ModelBlessing,
    PushedModel,
)
from headrace_core.component import config_dict
from headrace_core.placeholders import has_placeholder

__all__ = ["VERSIONING", "Pusher", "PusherSpec", "normalize_push_destination"]

#: TFX's ``pusher_pb2.Versioning`` values, by name and by number.
VERSIONING = {"AUTO": 0, "UNIX_TIMESTAMP": 1}

_FILESYSTEM_FIELDS = {"base_directory": "base_directory", "baseDirectory": "base_directory"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class PusherSpec(ComponentSpec):
    PARAMETERS = {
        "push_destination": ExecutionParameter(
            type=dict,
            description=(
                "pusher_pb2.PushDestination as JSON: "
                "{'filesystem': {'base_directory': DIR, 'versioning': 'AUTO'}}"
            ),
        ),
        "custom_config": ExecutionParameter(
            type=dict,
            optional=True,
            description="kept for TFX compatibility; the file-system push does not read it",
        ),
    }
    INPUTS = {
        "model": ChannelParameter(
            type=Model,
            optional=True,
            description=(
                "the SavedModel to push, in <uri>/Format-Serving/; without it, the "
                "infra_blessing's stamped_model (InfraValidator with make_warmup)"
            ),
        ),
        "model_blessing": ChannelParameter(
            type=ModelBlessing,
            optional=True,
            description="push only if its 'blessed' custom property is 1 (Evaluator)",
        ),
        "infra_blessing": ChannelParameter(
            type=InfraBlessing,
            optional=True,
            description="push only if its 'blessed' custom property is 1 (InfraValidator)",
        ),
    }
    OUTPUTS = {
        "pushed_model": ChannelParameter(
            type=PushedModel,
            # A model that is not blessed is not pushed: the artifact records pushed=0 only.
            allow_empty=True,
            description=(
                "a copy of the pushed SavedModel; custom properties pushed, "
                "pushed_destination, pushed_version"
            ),
        ),
    }


def _where(name: str) -> str:
    return f"Pusher: push_destination{name}"


def normalize_push_destination(value: Any) -> dict[str, Any]:
    """``push_destination`` in its canonical JSON form, from a dict, a JSON string or a
    ``pusher_pb2.PushDestination`` message.

    The result is ``{"filesystem": {"base_directory": ABSOLUTE_DIR}}`` (a directory written
    against the pipeline root, ``os.path.join(PIPELINE_ROOT, "serving_model")``, is kept as
    written: the runtime resolves it when the node launches), plus
    ``"versioning": "UNIX_TIMESTAMP"`` when that was asked for (``AUTO``, the default, means the
    same and is left out, as protobuf's JSON form leaves defaults out). Raises
    :class:`InvalidComponentArgumentError` naming the field at fault.
    """
    value = config_dict(
        value,
        _where(""),
        expected="a dict such as {'filesystem': {'base_directory': '/serving/my_model'}}, a "
        "JSON string or a pusher_pb2.PushDestination",
    )
    unknown = [k for k in value if k != "filesystem"]
    if unknown:
        hint = difflib.get_close_matches(str(unknown[0]), ["filesystem"], n=1)
        raise InvalidComponentArgumentError(
            f"{_where('')}: unknown destination {unknown[0]!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + "; headrace-pusher pushes to 'filesystem'"
        )
    filesystem = value.get("filesystem")
    if not isinstance(filesystem, Mapping):
        raise InvalidComponentArgumentError(
            f"{_where('.filesystem')} is required: "
            "{'filesystem': {'base_directory': '/serving/my_model'}}"
            + (f", got {filesystem!r:.80}" if filesystem is not None else "")
        )
    fields: dict[str, Any] = {}
    for key, given in filesystem.items():
        if key == "versioning":
            fields["versioning"] = given
            continue
        if key not in _FILESYSTEM_FIELDS:
            hint = difflib.get_close_matches(str(key), ["base_directory", "versioning"], n=1)
            raise InvalidComponentArgumentError(
                f"{_where('.filesystem')}: unknown field {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + "; fields: base_directory, versioning"
            )
        fields[_FILESYSTEM_FIELDS[key]] = given
    base = fields.get("base_directory")
    if not isinstance(base, str) or not base.strip():
        raise InvalidComponentArgumentError(
            f"{_where('.filesystem.base_directory')} is required: the directory a model "
            "server watches, e.g. '/serving/my_model'"
            + (f"; got {base!r:.80}" if base is not None else "")
        )
    if _SCHEME.match(base):
        raise InvalidComponentArgumentError(
            f"{_where('.filesystem.base_directory')} {base!r}: headrace-pusher writes with "
            "plain file operations, to a local or mounted directory; remote URIs are not "
            "supported"
        )
    # A path under the pipeline root is made absolute when the node launches, under the root
    # of that run; here it stays as written, so the IR runs under any root.
    result: dict[str, Any] = {
        "base_directory": base
        if has_placeholder(base)
        else os.path.abspath(os.path.expanduser(base))
    }
    versioning = fields.get("versioning", "AUTO")
    if isinstance(versioning, int) and not isinstance(versioning, bool):
        names = {number: name for name, number in VERSIONING.items()}
        versioning = names.get(versioning, versioning)
    if versioning not in VERSIONING:
        raise InvalidComponentArgumentError(
            f"{_where('.filesystem.versioning')} must be one of "
            f"{', '.join(VERSIONING)} (or 0, 1), got {versioning!r:.80}"
        )
    if versioning != "AUTO":
        result["versioning"] = versioning
    return {"filesystem": result}


class Pusher(BaseComponent):
    """Pushes a blessed model into TensorFlow Serving's layout, as TFX's Pusher.

    The model in ``<model.uri>/Format-Serving`` (a SavedModel, or a TFLite model as TFX's
    TFLite rewriter writes it: a ``tflite`` file) is pushed, as it is, to
    ``<base_directory>/<version>/`` with an integer version (seconds since the epoch, always
    above every version already there). It is copied into ``<base_directory>/.headrace/``
    first and renamed into place, so a model server watching ``base_directory`` never sees
    the version directory until it holds the whole model. With ``model_blessing`` and/or
    ``infra_blessing`` the model is pushed only when each has the custom property
    ``blessed == 1``. Without ``model``, the model pushed is the one an InfraValidator with
    ``request_spec.make_warmup`` stamped with its warm-up requests,
    ``<infra_blessing.uri>/stamped_model``, as in TFX. The ``pushed_model`` artifact records
    ``pushed`` (1 or 0) and, when pushed, ``pushed_destination`` and ``pushed_version``, as
    TFX does::

        pusher = Pusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            push_destination={"filesystem": {"base_directory": "/serving/penguin"}},
        )

    To push under the pipeline root of each run, wherever ``headrace run --pipeline-root``
    puts it, write the directory against the root::

        push_destination={
            "filesystem": {"base_directory": os.path.join(PIPELINE_ROOT, "serving_model")}
        }

    (``from headrace_core import PIPELINE_ROOT``; ``pipeline_root("serving_model")`` is the
    same.)

    A model whose content is already the latest pushed version is not copied again; that
    version is recorded. See the README for the push records under
    ``<base_directory>/.headrace/``.
    """

    SPEC_CLASS = PusherSpec
    EXECUTOR_SPEC = "headrace_pusher.executor:Executor"

    def __init__(
        self,
        model: Channel | None = None,
        model_blessing: Channel | None = None,
        infra_blessing: Channel | None = None,
        push_destination: Any = None,
        custom_config: Mapping[str, Any] | None = None,
    ) -> None:
        if model is None and infra_blessing is None:
            raise InvalidComponentArgumentError(
                "Pusher: give model (a Trainer's model), or infra_blessing from an "
                "InfraValidator with request_spec.make_warmup, whose stamped model is pushed"
            )
        if push_destination is None:
            raise InvalidComponentArgumentError(
                "Pusher: push_destination is required, e.g. "
                "{'filesystem': {'base_directory': '/serving/my_model'}}"
            )
        super().__init__(
            model=model,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            push_destination=normalize_push_destination(push_destination),
            custom_config=custom_config,
        )
