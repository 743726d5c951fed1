"""``Pusher``'s executor: TFX's blessing checks, then a file-system push.

Plain file operations only (:mod:`headrace_pusher.filesystem`): importing this module, or
pushing, never imports TensorFlow, so a push takes as long as copying the files.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from headrace_core import Artifact, BaseExecutor, InvalidComponentArgumentError
from headrace_core.artifacts import BLESSED_KEY, SERVING_MODEL_DIR, is_blessed, serving_model_path
from headrace_core.executor import single_input
from headrace_core.placeholders import resolve
from headrace_pusher.component import normalize_push_destination
from headrace_pusher.errors import PusherError
from headrace_pusher.filesystem import find_saved_model, push_saved_model

__all__ = [
    "PUSHED_DESTINATION_KEY",
    "PUSHED_KEY",
    "HAS_MODEL_KEY",
    "PUSHED_VERSION_KEY",
    "SERVING_MODEL_DIR",
    "STAMPED_MODEL_DIR",
    "Executor",
    "is_blessed",
]

log = logging.getLogger(__name__)

#: Where an InfraValidator with ``make_warmup`` leaves the model it stamped, and the custom
#: property of its blessing that says it did (TFX's names).
STAMPED_MODEL_DIR = "stamped_model"
HAS_MODEL_KEY = "has_model"

#: TFX's custom properties of the PushedModel artifact.
PUSHED_KEY = "pushed"
PUSHED_DESTINATION_KEY = "pushed_destination"
PUSHED_VERSION_KEY = "pushed_version"


def _input(input_dict: dict[str, list[Artifact]], key: str) -> Artifact | None:
    return single_input(input_dict, key, component="Pusher", optional=True, error=PusherError)


class Executor(BaseExecutor):
    """Pushes ``<model.uri>/Format-Serving`` to ``push_destination.filesystem.base_directory``
    when every blessing given is blessed; records the outcome on ``pushed_model``."""

    def CheckBlessing(self, input_dict: dict[str, list[Artifact]]) -> bool:  # noqa: N802 - TFX
        for key in ("model_blessing", "infra_blessing"):
            blessing = _input(input_dict, key)
            if blessing is not None and not is_blessed(blessing):
                log.info(
                    "Pusher: not pushing: %s %s has blessed=%r",
                    key,
                    blessing.uri,
                    blessing.get_custom_property(BLESSED_KEY),
                )
                return False
        if not input_dict.get("model_blessing") and not input_dict.get("infra_blessing"):
            log.warning(
                "Pusher: pushing without validation; consider an Evaluator's blessing "
                "(model_blessing) or an InfraValidator's (infra_blessing)"
            )
        return True

    def GetModelPath(self, input_dict: dict[str, list[Artifact]]) -> str:  # noqa: N802 - TFX
        model = _input(input_dict, "model")
        if model is not None:
            return serving_model_path(model)
        infra = _input(input_dict, "infra_blessing")
        if infra is None:
            raise PusherError("Pusher: inputs 'model' and 'infra_blessing' are empty: no model")
        if infra.get_custom_property(HAS_MODEL_KEY) != 1:
            raise PusherError(
                f"Pusher: infra_blessing {infra.uri} holds no model (has_model is not 1): give "
                "the Pusher a model, or set the InfraValidator's request_spec.make_warmup"
            )
        return os.path.join(infra.uri, STAMPED_MODEL_DIR)

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        pushed_model = single_input(
            output_dict, "pushed_model", component="Pusher", what="output", error=PusherError
        )
        if not self.CheckBlessing(input_dict):
            pushed_model.set_int_custom_property(PUSHED_KEY, 0)
            return

        model_path = self.GetModelPath(input_dict)
        model = _input(input_dict, "model")
        find_saved_model(model_path, model.uri if model is not None else "")
        try:
            # A dict from the pipeline, or TFX's JSON string from a ported caller.
            config = normalize_push_destination(exec_properties.get("push_destination"))[
                "filesystem"
            ]
        except InvalidComponentArgumentError as e:
            raise PusherError(str(e)) from None
        try:
            # The runtime resolves the pipeline root before Do; this covers a direct call.
            base = os.path.abspath(resolve(config["base_directory"], self.context.pipeline_root))
        except ValueError as e:
            raise PusherError(f"Pusher: push_destination.filesystem.base_directory: {e}") from None

        result = push_saved_model(model_path, base, model_uri=model.uri if model else "")
        # As TFX does: the pushed artifact keeps its own copy of what was pushed.
        shutil.copytree(model_path, pushed_model.uri, dirs_exist_ok=True)
        pushed_model.set_int_custom_property(PUSHED_KEY, 1)
        pushed_model.set_string_custom_property(PUSHED_DESTINATION_KEY, result.destination)
        pushed_model.set_string_custom_property(PUSHED_VERSION_KEY, str(result.version))
        log.info(
            "Pusher: %s version %s at %s",
            "recorded existing" if result.reused else "pushed",
            result.version,
            result.destination,
        )
