"""The ``InfraValidator`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    InfraBlessing,
    Model,
)
from headrace_infravalidator.specs import (
    normalize_request_spec,
    normalize_serving_spec,
    normalize_validation_spec,
)

__all__ = ["InfraValidator", "InfraValidatorSpec"]


class InfraValidatorSpec(ComponentSpec):
    PARAMETERS = {
        "serving_spec": ExecutionParameter(
            type=dict,
            description=(
                "infra_validator_pb2.ServingSpec as JSON; kept and recorded (headrace serves "
                "the model in a local process of its own)"
            ),
        ),
        "validation_spec": ExecutionParameter(
            type=dict,
            description=(
                "infra_validator_pb2.ValidationSpec as JSON: max_loading_time_seconds "
                "(default 300), num_tries (default 5)"
            ),
        ),
        "request_spec": ExecutionParameter(
            type=dict,
            optional=True,
            description=(
                "infra_validator_pb2.RequestSpec as JSON: canary requests from examples "
                "(tensorflow_serving.signature_names, split_name, num_examples); make_warmup "
                "also writes them into a copy of a blessed model"
            ),
        ),
    }
    INPUTS = {
        "model": ChannelParameter(
            type=Model, description="the candidate: a SavedModel in <uri>/Format-Serving"
        ),
        "examples": ChannelParameter(
            type=Examples,
            optional=True,
            description="where canary requests come from (with request_spec)",
        ),
    }
    OUTPUTS = {
        "blessing": ChannelParameter(
            type=InfraBlessing,
            description=(
                "INFRA_BLESSED or INFRA_NOT_BLESSED, infra_validation.json; custom property "
                "blessed (1 or 0), which the Pusher's infra_blessing checks; with make_warmup "
                "and blessed, stamped_model/ (the model with its warm-up file) and has_model=1"
            ),
        ),
    }


class InfraValidator(BaseComponent):
    """Checks that a model can be served before it is pushed, as TFX's InfraValidator.

    The SavedModel in ``<model.uri>/Format-Serving`` is loaded in a model-server process of
    its own (a separate OS process, so a model that crashes or exhausts memory takes down
    only that process), within ``validation_spec.max_loading_time_seconds``; with
    ``examples`` and a ``request_spec`` it is sent canary requests built from
    ``num_examples`` examples of ``split_name``, to each signature named. A model that fails
    every one of ``num_tries`` tries is INFRA_NOT_BLESSED and the run goes on; pass the
    blessing to the Pusher::

        infra_validator = InfraValidator(
            model=trainer.outputs["model"],
            examples=example_gen.outputs["examples"],
            serving_spec={"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}},
            request_spec={"tensorflow_serving": {}, "num_examples": 10},
        )
        pusher = Pusher(..., infra_blessing=infra_validator.outputs["blessing"])

    With ``request_spec={..., "make_warmup": True}`` a blessed model is also copied, as TFX
    does, into ``<blessing>/stamped_model/`` with the canary requests as TF Serving's warm-up
    file (``assets.extra/tf_serving_warmup_requests``), and the blessing gets ``has_model=1``.

    Each parameter also takes TFX's ``infra_validator_pb2`` message or its JSON.
    """

    SPEC_CLASS = InfraValidatorSpec
    EXECUTOR_SPEC = "headrace_infravalidator.executor:Executor"
    # The SavedModels the Trainer writes are tf_keras models.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        model: Channel,
        serving_spec: Any = None,
        examples: Channel | None = None,
        request_spec: Any = None,
        validation_spec: Any = None,
    ) -> None:
        super().__init__(
            model=model,
            examples=examples,
            serving_spec=normalize_serving_spec(serving_spec),
            validation_spec=normalize_validation_spec(validation_spec),
            request_spec=normalize_request_spec(request_spec),
        )
